import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  StartExecutionCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import type { Config } from '../../config.ts';
import type { BatchRunInput, RunState, TaskRunner } from '../../ports/task-runner.ts';
import { clientOptions } from './client-options.ts';

// Named after task, run and pass (task ids are unique across projects), so a second start of one is refused.
// The state machine's NextPass state names later passes the same way.
const executionName = (taskId: string, run: number, pass = 1) =>
  pass > 1 ? `${taskId}-${run}-${pass}` : `${taskId}-${run}`;

export class SfnTaskRunner implements TaskRunner {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(input: BatchRunInput): Promise<void> {
    if (!this.stateMachineArn) throw new Error('no batch state machine is configured for this function');
    try {
      await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: executionName(input.taskId, input.run, input.pass),
          input: JSON.stringify(input),
        }),
      );
    } catch (e) {
      if (!(e instanceof ExecutionAlreadyExists)) throw e;
    }
  }

  async state(taskId: string, run: number, pass?: number): Promise<RunState> {
    if (!this.stateMachineArn) throw new Error('no batch state machine is configured for this function');
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName(taskId, run, pass)}`;
    try {
      const out = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return out.status === 'RUNNING' || out.status === 'PENDING_REDRIVE' ? 'running' : 'ended';
    } catch (e) {
      if (e instanceof ExecutionDoesNotExist) return 'absent';
      throw e;
    }
  }
}

/** The task runner of a function whose manifest access has `startBatch` or `watchBatch` (functions/create-deps.ts Adapters). */
export const sfnTaskRunner = (config: Config): TaskRunner =>
  new SfnTaskRunner(
    new SFNClient(clientOptions(config.region, config.endpoints?.stepFunctions)),
    config.batchStateMachineArn,
  );
