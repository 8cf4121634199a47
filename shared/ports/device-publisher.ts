/** The broker's data plane (IoT Core's, or the local broker's): publishes to device topics, cuts connections. */
export interface DevicePublisher {
  publish(topic: string, payload: Uint8Array | string, qos: 0 | 1): Promise<void>;
  /** Closes the connection of this MQTT client id, if it is connected. */
  disconnect(clientId: string): Promise<void>;
}
