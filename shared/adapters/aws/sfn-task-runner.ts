import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { BatchRunInput, TaskRunner } from '../../ports/task-runner.ts';

export class SfnTaskRunner implements TaskRunner {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(input: BatchRunInput): Promise<void> {
    if (!this.stateMachineArn) throw new Error('no batch state machine is configured for this function');
    try {
      // Named after task and run (task ids are unique across projects), so a second start of a run is refused.
      const name = `${input.taskId}-${input.run}`;
      await this.sfn.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }));
    } catch (e) {
      if (!(e instanceof ExecutionAlreadyExists)) throw e;
    }
  }
}
