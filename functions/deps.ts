import type { Context } from 'aws-lambda';
import { configFromEnv } from '../shared/config.ts';
import { createDeps, type Deps } from '../shared/deps.ts';

/** The AWS composition root: one Deps per Lambda container, from the variables the stack sets. */
let deps: Deps | undefined;
const awsDeps = (): Deps => (deps ??= createDeps(configFromEnv(process.env)));

export type Build<E, R> = (deps: Deps) => (event: E, context: Context) => Promise<R>;

/** The Lambda entry for a function module's `build`; built on first use so importing a module costs nothing. */
export const lambda = <E, R>(build: Build<E, R>) => {
  let handler: ((event: E, context: Context) => Promise<R>) | undefined;
  return (event: E, context: Context): Promise<R> => (handler ??= build(awsDeps()))(event, context);
};
