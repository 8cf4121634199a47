/**
 * The one DynamoDB table (DESIGN.md "Data"), defined once for the CDK stack and the local runtime.
 * Item keys:
 *   DEVICE#{device_id} / DEVICE              a device; device ids are unique per deployment (MQTT names no project)
 *   TOKEN#{sha256(token)} / TOKEN            an API token; gsi1 TOKENS / {created}#{id} lists them
 *   REQ#{request_id} / REQ                   a synchronous request waiting for its device's answer (TTL)
 */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  indexes: [{ name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }],
} as const;

export const keys = {
  device: (deviceId: string) => ({ pk: `DEVICE#${deviceId}`, sk: 'DEVICE' }),
  token: (tokenHash: string) => ({ pk: `TOKEN#${tokenHash}`, sk: 'TOKEN' }),
  request: (requestId: string) => ({ pk: `REQ#${requestId}`, sk: 'REQ' }),
  tokenList: 'TOKENS',
} as const;
