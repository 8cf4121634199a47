import type { Deps } from '../deps.ts';
import { errors } from '../errors.ts';
import type { DeviceRecord } from '../ports/device-store.ts';
import { parseDeviceId } from '../validation.ts';
import { deviceView } from './device-view.ts';

/** A device of this project; another project's device is as unknown as a missing one. */
export const findDevice = async (deps: Deps, project: string, rawDeviceId: string | undefined): Promise<DeviceRecord> => {
  const deviceId = parseDeviceId(rawDeviceId);
  const device = await deps.devices.get(deviceId);
  if (!device || device.project !== project) throw errors.deviceNotFound(deviceId);
  return device;
};

export const showDevice = async (deps: Deps, project: string, deviceId: string | undefined) => {
  const device = await findDevice(deps, project, deviceId);
  return deviceView(device, await deps.products.get(device.productId));
};
