import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { createDynamoDb } from '../shared/adapters/aws/create-dynamodb.ts';
import type { Deps } from '../shared/ports/deps.ts';
import type { DeviceRecord } from '../shared/ports/device-store.ts';
import type { LifecycleEvent } from './broker.ts';

/** The ports it uses. */
export type OrphanedSessionsDeps = Pick<Deps, 'config'>;

/**
 * After a crash the registry can still show devices ONLINE whose connections died with the process.
 * IoT Core would have sent their disconnect events; a freshly started local broker has no connections,
 * so it sends them now, for each recorded session, through the same lifecycle path.
 */
export const endOrphanedSessions = async (
  deps: OrphanedSessionsDeps,
  publishLifecycle: (event: LifecycleEvent, extra: Record<string, unknown>) => Promise<void>,
) => {
  const db = createDynamoDb(deps.config.region, deps.config.endpoints?.dynamodb);
  const pages = paginateScan(
    { client: db },
    {
      TableName: deps.config.tableName,
      FilterExpression: 'begins_with(pk, :device) AND presence.#status = :online',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':device': 'DEVICE#', ':online': 'ONLINE' },
    },
  );
  for await (const page of pages) {
    for (const item of (page.Items ?? []) as DeviceRecord[])
      await publishLifecycle(
        {
          clientId: `${item.deviceId}_0_0_0000000000`,
          eventType: 'disconnected',
          sessionIdentifier: item.presence.session!,
          principalIdentifier: item.deviceId,
        },
        { clientInitiatedDisconnect: false, disconnectReason: 'SERVER_INITIATED_DISCONNECT', versionNumber: 0 },
      );
  }
};
