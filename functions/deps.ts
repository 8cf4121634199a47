import type { Context } from 'aws-lambda';
import { configFromEnv } from '../shared/config.ts';
import { createDeps, type Adapters } from './create-deps.ts';
import type { Deps } from '../shared/ports/deps.ts';

export type Build<E, R> = (deps: Deps) => (event: E, context: Context) => Promise<R>;

/**
 * The Lambda entry for a function module's `build`, with one Deps per container from the variables the stack
 * sets; built on first use so importing a module costs nothing. `adapters` names the AWS clients its manifest
 * access uses, and only those: esbuild bundles what the entry imports (test/infra/bundles.test.ts checks both agree).
 */
export const lambda = <E, R>(build: Build<E, R>, adapters: Adapters = {}) => {
  let handler: ((event: E, context: Context) => Promise<R>) | undefined;
  return (event: E, context: Context): Promise<R> =>
    (handler ??= build(createDeps(configFromEnv(process.env), adapters)))(event, context);
};
