import { describe, expect, it } from 'vitest';
import { generateToken, hashToken, newTokenRecord, policyForToken } from '../../shared/domain/api-tokens.ts';

const ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abcdef/prod/GET/v5/iot/p1/devices/d1';

describe('API tokens', () => {
  it('stores a SHA-256 hash, never the token', () => {
    const token = generateToken();
    const record = newTokenRecord(token, ['p1'], 0);
    expect(record.tokenHash).toBe(hashToken(token));
    expect(record.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(record)).not.toContain(token);
    expect(record.tokenId).toBe(record.tokenHash.slice(0, 16));
  });

  it('generates distinct high-entropy tokens', () => {
    const tokens = new Set(Array.from({ length: 100 }, generateToken));
    expect(tokens.size).toBe(100);
    for (const t of tokens) expect(t).toMatch(/^dlk_[A-Za-z0-9_-]{43}$/);
  });

  it('grants every project of the token, on any method, and nothing else', () => {
    const policy = policyForToken(newTokenRecord('t', ['p1', 'p2'], 0), ARN);
    expect(policy.policyDocument.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: [
          'arn:aws:execute-api:eu-west-1:123456789012:abcdef/prod/*/v5/iot/p1/*',
          'arn:aws:execute-api:eu-west-1:123456789012:abcdef/prod/*/v5/iot/p2/*',
        ],
      },
    ]);
    expect(policy.context.projects).toBe('p1,p2');
  });
});
