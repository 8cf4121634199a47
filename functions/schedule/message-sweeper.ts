import type { Deps } from '../../shared/deps.ts';
import { sweepExpiredMessages } from '../../shared/use-cases/sweep-expired-messages.ts';
import { sqsNotifier } from '../../shared/adapters/aws/sqs-notifier.ts';
import { lambda } from '../deps.ts';

export const build = (deps: Deps) => async () => ({ swept: await sweepExpiredMessages(deps) });

export const handler = lambda(build, { notifier: sqsNotifier });
