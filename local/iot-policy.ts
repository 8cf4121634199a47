/**
 * The part of AWS IoT Core's policy evaluation the device policy uses, so the local broker enforces the very
 * documents the device authorizer returns (functions/auth/device-authorizer.ts) instead of its own topic rules.
 * A request is allowed when some statement allows it and none denies it; anything unmatched is denied.
 * Resource and action wildcards as IoT has them: `*` any run of characters (slashes included), `?` one
 * character. MQTT's `+` and `#` are ordinary characters in a resource: subscribing `#` needs a policy that
 * names the filter `#` (or `*`), not one granting every topic.
 */

export type IotAction = 'iot:Connect' | 'iot:Publish' | 'iot:Subscribe' | 'iot:Receive';

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
}

const listOf = (x: string | string[]) => (Array.isArray(x) ? x : [x]);

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const wildcard = (pattern: string, flags = '') =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.split('?').map(escapeRegex).join('.'))
      .join('.*')}$`,
    `s${flags}`,
  );

/** What one connection may do, as its policy documents say; resources are full ARNs. */
export type IotPermissions = (action: IotAction, resourceArn: string) => boolean;

export const iotPermissions = (policyDocuments: string[]): IotPermissions => {
  const statements = policyDocuments
    .flatMap((doc) => (JSON.parse(doc) as { Statement: Statement | Statement[] }).Statement)
    .map((s) => ({
      allow: s.Effect === 'Allow',
      // Action names are case-insensitive in IAM-style policies; resources are not.
      actions: listOf(s.Action).map((a) => wildcard(a, 'i')),
      resources: listOf(s.Resource).map((r) => wildcard(r)),
    }));
  return (action, resourceArn) => {
    const matching = statements.filter(
      (s) => s.actions.some((a) => a.test(action)) && s.resources.some((r) => r.test(resourceArn)),
    );
    return matching.length > 0 && matching.every((s) => s.allow);
  };
};
