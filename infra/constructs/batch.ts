import { App, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { type IGrantable, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Function as LambdaFunction, type IFunction } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  type CfnStateMachine,
  Choice,
  Condition,
  CustomState,
  DefinitionBody,
  type IChainable,
  JsonPath,
  LogLevel,
  Map as MapState,
  StateMachine,
  StateMachineType,
  Succeed,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { BATCH_WORKFLOW, FUNCTIONS } from '../../functions/manifest.ts';
import { localArn } from '../../shared/aws-names.ts';

export interface BatchFunctions {
  prepare: IFunction;
  chunk: IFunction;
  settle: IFunction;
}

/** A Task state's timeout: its manifest function's. */
const timeoutOf = (name: string): Timeout => {
  const seconds = FUNCTIONS.find((f) => f.name === name)?.timeoutSeconds;
  if (seconds === undefined) throw new Error(`the manifest function ${name} needs a timeoutSeconds`);
  return Timeout.duration(Duration.seconds(seconds));
};

/**
 * The batch task workflow (DESIGN.md "Batch task"; docs/decisions.md "Batch at the limits"), the one
 * definition both runtimes run. One execution is one pass over the chunks of one run:
 *
 *   Prepare → Scheduled (wait until $.startAt) → Chunks (inline Map over the chunk numbers) → Settle → Again?
 *                                                                       NextPass (a new execution) ◄─┘
 *
 * Prepare writes the sub-tasks of a task created Initializing (a no-op otherwise). Each Map iteration invokes
 * the chunk function with a reference `{project, taskId, chunk, run, reclaim}`, and while it answers with
 * `waitUntil` (max_per_minute pacing) waits and invokes it again. Results are discarded, so the state never
 * grows with the targets. Settle runs also when the Map failed, so every task ends; when it asks for another
 * pass (policy retries due, a stop waiting for sub-tasks in flight), NextPass starts this state machine again
 * for it, named `{taskId}-{run}-{pass}`, and this execution ends: no history grows with the passes.
 * `partition` names the service integration ARN: the stack's (a token) on AWS, a literal locally, where the
 * definition is read as plain JSON.
 */
export const batchDefinition = (
  scope: Construct,
  fns: BatchFunctions,
  partition: string = Stack.of(scope).partition,
): IChainable => {
  // payloadResponseOnly: the Task's Resource is the function itself and its input is the state input as is.
  // Each state times out with its function, as AWS does; left unset, aws-local-stepfunctions would give up
  // after 60 s and retry a call still running.
  const prepare = new LambdaInvoke(scope, 'Prepare', {
    lambdaFunction: fns.prepare,
    payloadResponseOnly: true,
    resultPath: JsonPath.DISCARD,
    taskTimeout: timeoutOf(BATCH_WORKFLOW.prepareFunction),
  });
  // Each sub-task is put only if missing, so a retried Prepare adds what is missing and resets nothing.
  prepare.addRetry({ errors: ['States.ALL'], maxAttempts: 2, interval: Duration.seconds(5), backoffRate: 2 });
  const scheduled = new Wait(scope, 'Scheduled', { time: WaitTime.timestampPath('$.startAt') });
  const sendChunk = new LambdaInvoke(scope, 'SendChunk', {
    lambdaFunction: fns.chunk,
    payloadResponseOnly: true,
    taskTimeout: timeoutOf(BATCH_WORKFLOW.chunkFunction),
  });
  // A chunk run again only claims what is still runnable, each claim a compare-and-set, so retrying is safe.
  sendChunk.addRetry({ errors: ['States.ALL'], maxAttempts: 2, interval: Duration.seconds(5), backoffRate: 2 });
  const pace = new Wait(scope, 'Pace', { time: WaitTime.timestampPath('$.waitUntil') });
  const iteration = sendChunk.next(
    new Choice(scope, 'ChunkDone')
      .when(Condition.isPresent('$.waitUntil'), pace.next(sendChunk))
      .otherwise(new Succeed(scope, 'ChunkSent')),
  );
  const chunks = new MapState(scope, 'Chunks', {
    itemsPath: '$.chunks',
    maxConcurrency: BATCH_WORKFLOW.maxConcurrency,
    itemSelector: {
      project: JsonPath.stringAt('$.project'),
      taskId: JsonPath.stringAt('$.taskId'),
      run: JsonPath.numberAt('$.run'),
      chunk: JsonPath.numberAt('$$.Map.Item.Value'),
      reclaim: JsonPath.stringAt('$.reclaim'),
    },
    resultPath: JsonPath.DISCARD,
  });
  chunks.itemProcessor(iteration);
  const settle = new LambdaInvoke(scope, 'Settle', {
    lambdaFunction: fns.settle,
    payloadResponseOnly: true,
    resultPath: '$.settled',
    taskTimeout: timeoutOf(BATCH_WORKFLOW.settleFunction),
  });
  settle.addRetry({ errors: ['States.ALL'], maxAttempts: 3, interval: Duration.seconds(5), backoffRate: 2 });
  chunks.addCatch(settle, { resultPath: '$.error' });
  const ended = new Succeed(scope, 'Ended');
  // StartExecution of this same state machine ($$.StateMachine.Id: no reference to itself in the template).
  const nextPass = new CustomState(scope, 'NextPass', {
    stateJson: {
      Type: 'Task',
      Resource: `arn:${partition}:states:::states:startExecution`,
      Parameters: {
        'StateMachineArn.$': '$$.StateMachine.Id',
        'Name.$': "States.Format('{}-{}-{}', $.taskId, $.run, $.settled.pass)",
        Input: {
          'project.$': '$.project',
          'taskId.$': '$.taskId',
          'run.$': '$.run',
          'chunks.$': '$.chunks',
          'startAt.$': '$.settled.retryAt',
          'reclaim.$': '$.reclaim',
          'pass.$': '$.settled.pass',
        },
      },
      ResultPath: null,
    },
  });
  // Already started (by the batch sweeper, which found it missing): nothing left to do here.
  nextPass.addRetry({ errors: ['StepFunctions.ExecutionAlreadyExistsException'], maxAttempts: 0 });
  nextPass.addRetry({ errors: ['States.ALL'], maxAttempts: 3, interval: Duration.seconds(2), backoffRate: 2 });
  nextPass.addCatch(ended, { errors: ['StepFunctions.ExecutionAlreadyExistsException'], resultPath: JsonPath.DISCARD });
  return prepare
    .next(scheduled)
    .next(chunks)
    .next(settle)
    .next(
      new Choice(scope, 'Again').when(Condition.isPresent('$.settled.retryAt'), nextPass.next(ended)).otherwise(ended),
    );
};

/** A Lambda ARN for a manifest function, as the local runtime names them. */
export const localFunctionArn = (name: string) => localArn('lambda', `function:${name}`);

/**
 * The Amazon States Language the stack deploys, with the functions at `arnOf(name)`: synthesized by CDK
 * from batchDefinition, so the local runtime runs exactly what AWS runs.
 */
export const synthesizeBatchDefinition = (
  arnOf: (functionName: string) => string = localFunctionArn,
): Record<string, unknown> => {
  const stack = new Stack(new App(), 'BatchDefinition');
  const fn = (name: string) => LambdaFunction.fromFunctionArn(stack, name, arnOf(name));
  const sm = new StateMachine(stack, 'StateMachine', {
    definitionBody: DefinitionBody.fromChainable(
      batchDefinition(
        stack,
        {
          prepare: fn(BATCH_WORKFLOW.prepareFunction),
          chunk: fn(BATCH_WORKFLOW.chunkFunction),
          settle: fn(BATCH_WORKFLOW.settleFunction),
        },
        'aws',
      ),
    ),
  });
  return JSON.parse(stack.resolve((sm.node.defaultChild as CfnStateMachine).definitionString) as string) as Record<
    string,
    unknown
  >;
};

/** The Standard state machine that runs batch tasks, with its execution log and tracing. */
export class BatchWorkflow extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, fns: BatchFunctions) {
    super(scope, id);
    const logs = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      // Standard: exactly-once steps and up to a year; a run lasts as long as its slowest chunks.
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(batchDefinition(this, fns)),
      // Execution data stays out of the logs: it names devices and tasks, nothing an operator needs there.
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    // Each pass after the first is a new execution, started by the previous one (NextPass). A policy of its
    // own, not the role's default one: the state machine waits for that, so naming itself there is a cycle.
    new Policy(this, 'StartsNextPass', {
      roles: [this.stateMachine.role],
      statements: [
        new PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] }),
      ],
    });
    // LambdaInvoke also grants `{function}:*` (any version or alias of the same function).
    for (const fn of [fns.prepare, fns.chunk, fns.settle]) {
      const logicalId = Stack.of(this).resolve((fn.node.defaultChild as CfnElement).logicalId) as string;
      Validations.of(this).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason: 'Versions and aliases of the one function this state invokes; CDK grants them with the function.',
      });
    }
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing and CloudWatch Logs delivery (vended logs) have no resource-level permissions.',
    });
  }

  /**
   * Lets a function start runs (and see them, if `watch`), and tells it which state machine (shared/config.ts
   * reads the variable).
   */
  bindStart(fn: NodejsFunction & IGrantable, watch: boolean): void {
    fn.addEnvironment('DOWNLINK_BATCH_STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(fn);
    if (!watch) return;
    // Whether a task's run is running: DescribeExecution on this machine's executions, named per run.
    this.stateMachine.grantExecution(fn, 'states:DescribeExecution');
    // The role is a sibling of the function, in the construct that holds both.
    const machine = Stack.of(this).resolve((this.stateMachine.node.defaultChild as CfnElement).logicalId) as string;
    Validations.of(fn.node.scope ?? fn).acknowledge({
      id:
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:' +
        `{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${machine}"}]}]}:*]`,
      reason: 'Executions of this one state machine; each is named after a task run, known only at run time.',
    });
  }
}
