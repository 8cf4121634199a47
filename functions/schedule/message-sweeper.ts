import { sqsNotifier } from '../../shared/adapters/aws/sqs-notifier.ts';
import type { Deps } from '../../shared/ports/deps.ts';
import { scheduledHandler } from '../../shared/handler-stack.ts';
import { sweepExpiredMessages } from '../../shared/use-cases/sweep-expired-messages.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) =>
  scheduledHandler(deps, 'message-sweeper', async () => ({ swept: await sweepExpiredMessages(deps) }));

export const handler = lambda(build, { notifier: sqsNotifier });
