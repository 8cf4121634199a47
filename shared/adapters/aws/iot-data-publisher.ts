import { DeleteConnectionCommand, IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import type { Config } from '../../config.ts';
import { errors } from '../../errors.ts';
import type { DevicePublisher } from '../../ports/device-publisher.ts';
import { clientOptions } from './client-options.ts';

export class IotDataPublisher implements DevicePublisher {
  constructor(private readonly iot: IoTDataPlaneClient) {}

  async publish(topic: string, payload: Uint8Array | string, qos: 0 | 1): Promise<void> {
    try {
      await this.iot.send(
        new PublishCommand({ topic, qos, payload: typeof payload === 'string' ? Buffer.from(payload) : payload }),
      );
    } catch (e) {
      // IoT Core caps a publish at 128 KB, below the contract's 256 KB: say so instead of failing with a 500.
      if ((e as Error).name === 'RequestEntityTooLargeException') throw errors.payloadTooLarge('128 KB (AWS IoT Core)');
      throw e;
    }
  }

  async disconnect(clientId: string): Promise<void> {
    try {
      // A clean session: nothing queued for the old connection is kept for a later one.
      await this.iot.send(new DeleteConnectionCommand({ clientId, cleanSession: true, preventWillMessage: true }));
    } catch (e) {
      if ((e as Error).name !== 'ResourceNotFoundException') throw e;
    }
  }
}

/** The publisher of a function whose manifest access has `publish` or `disconnect` (functions/create-deps.ts Adapters). */
export const iotDataPublisher = (config: Config): DevicePublisher =>
  new IotDataPublisher(
    new IoTDataPlaneClient(
      config.endpoints?.iotData
        ? clientOptions(config.region, config.endpoints.iotData)
        : { region: config.region, endpoint: config.iotDataEndpoint },
    ),
  );
