import { verifyDeviceConnect, type ConnectAttempt, type ConnectVerdict } from '../domain/device-auth.ts';
import type { Deps } from '../ports/deps.ts';

/** The ports this use case uses. */
export type AuthenticateDeviceDeps = Pick<Deps, 'clock' | 'devices' | 'logger'>;

/** One CONNECT, judged by the Huawei scheme against the device registry; logs never carry the password. */
export const authenticateDevice = async (
  deps: AuthenticateDeviceDeps,
  attempt: ConnectAttempt,
): Promise<ConnectVerdict> => {
  const verdict = await verifyDeviceConnect(
    attempt,
    async (deviceId) => (await deps.devices.get(deviceId))?.secret,
    deps.clock.now(),
  );
  if (!verdict.ok) deps.logger.info('device connect refused', { clientId: attempt.clientId, reason: verdict.reason });
  return verdict;
};
