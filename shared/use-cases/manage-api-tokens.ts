import { generateToken, newAccessKeyRecord, newTokenRecord, PROJECT_ID } from '../domain/api-tokens.ts';
import type { Deps } from '../ports/deps.ts';

export type TokenDeps = Pick<Deps, 'tokens' | 'clock'>;

const checkProjects = (projects: string[]) => {
  const bad = projects.find((p) => !PROJECT_ID.test(p));
  if (projects.length === 0 || bad !== undefined) throw new Error(`invalid project id: ${bad ?? '(none)'}`);
};

export const createApiToken = async (deps: TokenDeps, projects: string[], name?: string, token = generateToken()) => {
  checkProjects(projects);
  const record = newTokenRecord(token, [...new Set(projects)], deps.clock.now(), name);
  await deps.tokens.put(record);
  return { token, record };
};

/** An AK/SK pair (CONTRACT.md §6); the caller shows the SK once. */
export const createAccessKey = async (deps: TokenDeps, projects: string[], name?: string) => {
  checkProjects(projects);
  const record = newAccessKeyRecord([...new Set(projects)], deps.clock.now(), name);
  await deps.tokens.put(record);
  return record;
};

export const listApiTokens = (deps: TokenDeps) => deps.tokens.list();

export const revokeApiToken = (deps: TokenDeps, tokenId: string) => deps.tokens.revoke(tokenId);
