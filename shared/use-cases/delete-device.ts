import type { Deps } from '../deps.ts';
import { errors } from '../errors.ts';
import { parseDeviceId } from '../validation.ts';

export const deleteDevice = async (deps: Deps, project: string, rawDeviceId: string | undefined): Promise<void> => {
  const deviceId = parseDeviceId(rawDeviceId);
  if (!(await deps.devices.delete(project, deviceId))) throw errors.deviceNotFound(deviceId);
  deps.logger.info('device deleted', { project, deviceId });
};
