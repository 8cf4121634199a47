/** What a batch task execution starts from: references only, never the targets (Step Functions payloads stay small). */
export interface BatchRunInput {
  project: string;
  taskId: string;
  /** The task's run number this execution is; once the task has moved on to a newer run, it does nothing. */
  run: number;
  /** Chunk numbers 0..n-1; each Map iteration sends one chunk's sub-tasks. */
  chunks: number[];
  /** When the run may start (Step Functions timestamp): task_policy.schedule_time, or now; paces max_per_minute. */
  startAt: string;
  /**
   * True when the run resumes a task whose previous run died (local runtime restart): its Processing
   * sub-tasks are run again at once instead of after the abandoned-claim delay.
   */
  reclaim: boolean;
  /**
   * The run's pass: each pass over the chunks after the first is an execution of its own (started by the
   * previous one's last state), so no execution's history grows with retries. Absent: the first.
   */
  pass?: number;
}

/** Where a run's execution stands: not started, running, or ended (whatever its outcome). */
export type RunState = 'absent' | 'running' | 'ended';

/** Starts the batch state machine for a stored task (Step Functions on AWS; the same definition locally). */
export interface TaskRunner {
  /** Idempotent per task run and pass: starting the same one twice starts it once. */
  start(input: BatchRunInput): Promise<void>;
  state(taskId: string, run: number, pass?: number): Promise<RunState>;
}
