import type { ApiTokenRecord } from '../domain/api-tokens.ts';

export interface TokenStore {
  /** Idempotent: storing the same token again replaces its grants. */
  put(record: ApiTokenRecord): Promise<void>;
  getByHash(tokenHash: string): Promise<ApiTokenRecord | undefined>;
  list(): Promise<ApiTokenRecord[]>;
  /** False when no token has that id. */
  revoke(tokenId: string): Promise<boolean>;
}
