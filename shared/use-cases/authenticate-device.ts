import { verifyDeviceConnect, type ConnectAttempt, type ConnectVerdict } from '../domain/device-auth.ts';
import type { Deps } from '../deps.ts';

/** One CONNECT, judged by the Huawei scheme against the device registry; logs never carry the password. */
export const authenticateDevice = async (deps: Deps, attempt: ConnectAttempt): Promise<ConnectVerdict> => {
  const verdict = await verifyDeviceConnect(
    attempt,
    async (deviceId) => (await deps.devices.get(deviceId))?.secret,
    deps.clock.now(),
  );
  if (!verdict.ok) deps.logger.info('device connect refused', { clientId: attempt.clientId, reason: verdict.reason });
  return verdict;
};
