import type { Config } from '../config.ts';
import type { Telemetry } from '../telemetry.ts';
import type { Clock } from '../time.ts';
import type { BatchTaskStore } from './batch-task-store.ts';
import type { DevicePublisher } from './device-publisher.ts';
import type { DeviceStore } from './device-store.ts';
import type { LeaseStore } from './lease-store.ts';
import type { Logger } from './logger.ts';
import type { MessageStore } from './message-store.ts';
import type { MetricsRecorder } from './metrics.ts';
import type { Notifier } from './notifier.ts';
import type { ProductStore } from './product-store.ts';
import type { PushQueue } from './push-queue.ts';
import type { ResponseStore } from './response-store.ts';
import type { RoutingRuleStore } from './routing-rule-store.ts';
import type { SubtaskStore } from './subtask-store.ts';
import type { TaskRunner } from './task-runner.ts';
import type { TokenStore } from './token-store.ts';

/**
 * Every port a use case may touch; each use case names the ones it uses (`Pick<Deps, ...>`). Built once per
 * runtime by the composition root (functions/create-deps.ts, used by functions/deps.ts and local/runtime.ts).
 */
export interface Deps {
  config: Config;
  devices: DeviceStore;
  tokens: TokenStore;
  responses: ResponseStore;
  messages: MessageStore;
  products: ProductStore;
  batchTasks: BatchTaskStore;
  subtasks: SubtaskStore;
  leases: LeaseStore;
  routingRules: RoutingRuleStore;
  taskRunner: TaskRunner;
  notifier: Notifier;
  pushQueue: PushQueue;
  publisher: DevicePublisher;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRecorder;
  /**
   * The runtime's Powertools instances, for the handler stacks only (shared/handler-stack.ts); use cases log and
   * count through `logger` and `metrics`.
   */
  telemetry: Telemetry;
}
