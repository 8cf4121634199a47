import type { Context } from 'aws-lambda';
import { sqsNotifier } from '../../shared/adapters/aws/sqs-notifier.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { runAlone } from '../../shared/use-cases/run-alone.ts';
import { sweepExpiredMessages } from '../../shared/use-cases/sweep-expired-messages.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) => (_event: unknown, context: Context) =>
  runAlone(deps, 'message-sweeper', context.getRemainingTimeInMillis(), async () => ({
    swept: await sweepExpiredMessages(deps),
  }));

export const handler = lambda(build, { notifier: sqsNotifier });
