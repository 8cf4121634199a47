import type { Context } from 'aws-lambda';
import { configFromEnv } from '../shared/config.ts';
import { createDeps, type Adapters } from './create-deps.ts';
import type { Deps } from '../shared/ports/deps.ts';

export type Build<E, R> = (deps: Deps) => (event: E, context: Context) => Promise<R>;

/**
 * The Lambda entry for a function module's `build`, with one Deps per container from the variables the stack
 * sets; built on first use so importing a module costs nothing. `adapters` names the AWS clients its manifest
 * access uses, and only those: esbuild bundles what the entry imports (test/infra/bundles.test.ts checks both agree).
 * Lambda's telemetry (the Tracer) is imported here, lazily, so the local runtime, which imports the function
 * modules, never loads the X-Ray SDK (functions/lambda-telemetry.ts says why).
 */
export const lambda = <E, R>(build: Build<E, R>, adapters: Adapters = {}) => {
  let handler: Promise<(event: E, context: Context) => Promise<R>> | undefined;
  const built = async () => {
    const { lambdaTelemetry } = await import('./lambda-telemetry.ts');
    const config = configFromEnv(process.env);
    return build(createDeps(config, adapters, lambdaTelemetry(config)));
  };
  return async (event: E, context: Context): Promise<R> => {
    // A failed build is tried again by the next invocation, as a throwing one was.
    handler ??= built().catch((e: unknown) => {
      handler = undefined;
      throw e;
    });
    return (await handler)(event, context);
  };
};
