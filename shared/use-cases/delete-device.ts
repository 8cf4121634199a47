import type { Deps } from '../ports/deps.ts';
import { errors } from '../errors.ts';
import { findDevice } from './show-device.ts';

/** The ports this use case uses. */
export type DeleteDeviceDeps = Pick<Deps, 'devices' | 'logger' | 'messages' | 'products' | 'publisher'>;

/**
 * IoTDA DeleteDevice: the device and everything it owned. A device added again with the same id, by this
 * project or another, is a new registration and never sees the old one's messages (their keys carry the
 * old generation), whatever this call got done before it died.
 * - The messages go first, so a delete cut short and called again finishes the job.
 * - The device goes only if it is still the registration that was read.
 * - The messages go again: one stored by a send that read the device just before the delete; then its use
 *   of its product (left behind, it is found stale when the product is deleted).
 * - The open connection is cut: it would otherwise stay subscribed to the topics a device added again under
 *   the same id is sent on (IoT Core checks a connection's policy only hourly).
 */
export const deleteDevice = async (
  deps: DeleteDeviceDeps,
  project: string,
  rawDeviceId: string | undefined,
): Promise<void> => {
  const device = await findDevice(deps, project, rawDeviceId);
  await deps.messages.removeAll(device);
  if (!(await deps.devices.delete(project, device))) throw errors.deviceNotFound(device.deviceId);
  await deps.messages.removeAll(device);
  await deps.products.unlink(device.productId, device);
  const { clientId, status } = device.presence;
  if (clientId && status === 'ONLINE') await deps.publisher.disconnect(clientId);
  deps.logger.info('device deleted', { project, deviceId: device.deviceId });
};
