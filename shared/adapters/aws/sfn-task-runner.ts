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
      // The first run is named after the task (ids are unique across projects), so a second start of it is
      // refused; a resumed run gets a name of its own.
      const name = input.reclaim ? `${input.taskId}-resumed-${Date.now()}` : input.taskId;
      await this.sfn.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }));
    } catch (e) {
      if (!(e instanceof ExecutionAlreadyExists)) throw e;
    }
  }
}
