/** Publishes to a device topic through the broker (IoT Core's data plane, or the local broker). */
export interface DevicePublisher {
  publish(topic: string, payload: Uint8Array | string, qos: 0 | 1): Promise<void>;
}
