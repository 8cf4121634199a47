import { FINISHED, type ProgressField, type SubtaskStatus, type TaskStatus } from '../../shared/domain/batch-tasks.ts';
import type { NotificationEnvelope } from '../../shared/domain/notifications.ts';
import type {
  BatchTaskRecord,
  BatchTaskStore,
  DeletedTask,
  SubtaskRecord,
  TaskChanges,
  TaskKey,
} from '../../shared/ports/batch-task-store.ts';
import type { RunState, TaskRunner, BatchRunInput } from '../../shared/ports/task-runner.ts';
import type { MetricName, MetricsRecorder } from '../../shared/ports/metrics.ts';
import type { SubtaskChanges, SubtaskState, SubtaskStore } from '../../shared/ports/subtask-store.ts';

/**
 * In-memory fakes of the ports, for use-case tests: each keeps what it was given and answers as the DynamoDB
 * adapter does (the same conditional moves), without I/O. The integration tests run the real adapters.
 */

/** A port of which a test uses only some methods; any other call fails the test by name. */
export const only = <T extends object>(name: string, methods: Partial<T>): T =>
  new Proxy(methods, {
    get: (target, method) =>
      method in target
        ? target[method as keyof T]
        : method === 'then'
          ? undefined
          : () => {
              throw new Error(`${name}.${String(method)} was not expected in this test`);
            },
  }) as T;

export const fakeClock = (start = 1_700_000_000_000) => {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
};

export const recordingNotifier = () => {
  const sent: NotificationEnvelope[] = [];
  return { sent, send: async (e: NotificationEnvelope) => void sent.push(e) };
};

export const countingMetrics = (): MetricsRecorder & { counts: Partial<Record<MetricName, number>> } => {
  const counts: Partial<Record<MetricName, number>> = {};
  return { counts, count: (name, n = 1) => void (counts[name] = (counts[name] ?? 0) + n) };
};

export const silentLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Executions by name, as Step Functions would report them; starts are recorded. */
export const fakeTaskRunner = (states: Record<string, RunState> = {}): TaskRunner & { started: BatchRunInput[] } => {
  const started: BatchRunInput[] = [];
  return {
    started,
    start: async (input) => void started.push(input),
    state: async (taskId, run, pass = 1) => states[`${taskId}-${run}-${pass}`] ?? 'absent',
  };
};

const keyOf = (k: TaskKey) => `${k.project}/${k.taskId}`;

export class InMemoryBatchTasks implements BatchTaskStore {
  readonly tasks = new Map<string, BatchTaskRecord & { deleted?: boolean }>();
  readonly targetParts = new Map<string, string[]>();

  async create(t: BatchTaskRecord) {
    if (this.tasks.has(keyOf(t))) return false;
    this.tasks.set(keyOf(t), structuredClone(t));
    return true;
  }
  async storeTargets(k: TaskKey, targets: readonly string[]) {
    this.targetParts.set(keyOf(k), [...targets]);
  }
  async targets(k: TaskKey) {
    return this.targetParts.get(keyOf(k)) ?? [];
  }
  async get(k: TaskKey) {
    const t = this.tasks.get(keyOf(k));
    return t && !t.deleted ? structuredClone(t) : undefined;
  }
  async list(): Promise<never> {
    throw new Error('not faked');
  }
  async moveTask(k: TaskKey & { run: number }, from: readonly TaskStatus[], to: TaskStatus, set: TaskChanges = {}) {
    const t = this.tasks.get(keyOf(k));
    if (!t || t.deleted || !from.includes(t.status)) return false;
    if ((set.run !== undefined || set.pass !== undefined) && t.run !== k.run) return false;
    Object.assign(t, { status: to }, set);
    if (set.run !== undefined) t.pass = set.pass ?? 1;
    return true;
  }
  async markDeleted(k: TaskKey) {
    const t = this.tasks.get(keyOf(k));
    if (!t || t.deleted || !FINISHED.includes(t.status)) return false;
    t.deleted = true;
    return true;
  }
  async purgeDeleted(k: DeletedTask) {
    if (this.tasks.get(keyOf(k))?.deleted) this.tasks.delete(keyOf(k));
    this.targetParts.delete(keyOf(k));
  }
  async deleting() {
    return [...this.tasks.values()]
      .filter((t) => t.deleted)
      .map((t) => ({ project: t.project, taskId: t.taskId, total: t.progress.total }));
  }
  async unfinished() {
    return [...this.tasks.values()]
      .filter((t) => !t.deleted && !FINISHED.includes(t.status))
      .map((t) => structuredClone(t));
  }
  async addProgress(k: TaskKey & { run: number }, delta: Partial<Record<ProgressField, number>>) {
    const t = this.tasks.get(keyOf(k));
    if (!t || t.run !== k.run || FINISHED.includes(t.status)) return;
    for (const [f, n] of Object.entries(delta) as [ProgressField, number][]) t.progress[f] += n;
  }
}

export class InMemorySubtasks implements SubtaskStore {
  readonly subs = new Map<string, SubtaskRecord[]>();

  private of(k: TaskKey) {
    return this.subs.get(keyOf(k)) ?? [];
  }
  async addSubtasks(k: TaskKey, targets: readonly string[]) {
    const have = this.of(k);
    const all = targets.map(
      (target, seq) => have[seq] ?? { taskId: k.taskId, seq, target, status: 'Waitting' as SubtaskStatus },
    );
    this.subs.set(keyOf(k), all);
  }
  async subtasks(): Promise<never> {
    throw new Error('not faked');
  }
  async subtaskOf(k: TaskKey, target: string) {
    return this.of(k).find((s) => s.target === target);
  }
  async subtaskRange(k: TaskKey, from: number, to: number) {
    return this.of(k)
      .slice(from, to + 1)
      .map((s) => ({ ...s }));
  }
  async subtaskStates(k: TaskKey): Promise<SubtaskState[]> {
    return this.of(k).map(({ status, claimedAt, retryAt }) => ({ status, claimedAt, retryAt }));
  }
  async moveSubtask(
    k: TaskKey,
    seen: Pick<SubtaskRecord, 'seq' | 'status' | 'claimedAt'>,
    to: SubtaskStatus,
    set: SubtaskChanges = {},
  ) {
    const s = this.of(k)[seen.seq];
    if (!s || s.status !== seen.status || s.claimedAt !== seen.claimedAt) return false;
    for (const f of ['output', 'error', 'retryAt', 'finishedAt'] as const) delete s[f];
    Object.assign(s, { status: to }, set);
    return true;
  }
  async removeAll(k: TaskKey) {
    this.subs.delete(keyOf(k));
  }
}
