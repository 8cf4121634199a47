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
      // The execution is named after the task (ids are unique across projects): a second start of it is refused.
      await this.sfn.send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name: input.taskId, input: JSON.stringify(input) }),
      );
    } catch (e) {
      if (!(e instanceof ExecutionAlreadyExists)) throw e;
    }
  }
}
