import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../ids.ts';

/**
 * API tokens (CONTRACT.md §1). A token is 256 random bits, so a plain SHA-256 is a safe one-way store
 * and still a direct key lookup; a slow password hash would add nothing but latency to every call.
 */
export interface ApiTokenRecord {
  tokenId: string; // public handle: shown by list, used by revoke
  tokenHash: string;
  projects: string[];
  name?: string;
  createdAt: number;
  /**
   * Access keys only (CONTRACT.md §6): the SK, which checking a signature needs in the clear, so it is stored
   * as device secrets are (the table's encryption at rest); such a record is keyed by the hash of its AK.
   */
  secretKey?: string;
}

export const PROJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export const hashToken = (token: string): string => sha256Hex(token);

export const tokenIdOf = (tokenHash: string): string => tokenHash.slice(0, 16);

export const generateToken = (): string => `dlk_${randomBytes(32).toString('base64url')}`;

export const newTokenRecord = (token: string, projects: string[], createdAt: number, name?: string): ApiTokenRecord => {
  const tokenHash = hashToken(token);
  return { tokenId: tokenIdOf(tokenHash), tokenHash, projects, createdAt, ...(name ? { name } : {}) };
};

const KEY_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const randomChars = (n: number, chars: string): string =>
  [...randomBytes(n)].map((b) => chars[b % chars.length]).join('');

/** An AK/SK pair shaped like Huawei's: a 20-character AK (public, also the key's id) and a 40-character SK. */
export const newAccessKeyRecord = (projects: string[], createdAt: number, name?: string): ApiTokenRecord => {
  const accessKey = randomChars(20, KEY_CHARS);
  return {
    tokenId: accessKey,
    tokenHash: hashToken(accessKey),
    projects,
    createdAt,
    secretKey: randomChars(40, KEY_CHARS + KEY_CHARS.slice(0, 26).toLowerCase()),
    ...(name ? { name } : {}),
  };
};

/** API Gateway method ARN: arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path...}. */
const methodArnBase = (methodArn: string): string => methodArn.split('/').slice(0, 2).join('/');

export interface ApiPolicy {
  principalId: string;
  policyDocument: {
    Version: '2012-10-17';
    Statement: { Action: string; Effect: 'Allow' | 'Deny'; Resource: string[] }[];
  };
  context: { tokenId: string; projects: string };
}

/**
 * One policy that covers every project the token grants, for any method: API Gateway caches it per
 * token, so it must not depend on the route that happened to be called first.
 */
export const policyForToken = (record: ApiTokenRecord, methodArn: string): ApiPolicy => {
  const base = methodArnBase(methodArn);
  return {
    principalId: record.tokenId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'execute-api:Invoke',
          Effect: 'Allow',
          Resource: record.projects.map((p) => `${base}/*/v5/iot/${p}/*`),
        },
      ],
    },
    context: { tokenId: record.tokenId, projects: record.projects.join(',') },
  };
};
