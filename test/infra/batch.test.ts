import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BATCH_WORKFLOW, FUNCTIONS } from '../../functions/manifest.ts';
import { localFunctionArn, synthesizeBatchDefinition } from '../../infra/constructs/batch.ts';
import { chunkCount, MAX_PACED_MINUTES, MAX_TARGETS } from '../../shared/domain/batch-tasks.ts';
import { functionIds, logicalId, resources, synthStack } from './synth.ts';

const { stack, template } = synthStack();
const machines = resources(template, 'AWS::StepFunctions::StateMachine');
const [machineId, machine] = Object.entries(machines)[0]!;
const policies = Object.values(resources(template, 'AWS::IAM::Policy'));
type Statement = { Action: string | string[]; Resource: unknown };
const statements = (filter: (roles: string) => boolean) =>
  policies
    .filter((p) => filter(JSON.stringify(p.Properties.Roles)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
const actionsOf = (s: Statement) => [s.Action].flat();

/**
 * The deployed definition, with each function's ARN (a GetAtt in the template) put back as the local runtime
 * names it, and the stack's partition (a Ref) as the local runtime has it.
 */
const deployedDefinition = () => {
  const byLogicalId = new Map(FUNCTIONS.map((def) => [functionIds(stack, def.name).fn, def.name]));
  const parts = (machine.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const text = parts
    .map((p) => {
      if (typeof p === 'string') return p;
      if ((p as { Ref?: string }).Ref === 'AWS::Partition') return 'aws';
      const [id] = (p as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
      return localFunctionArn(byLogicalId.get(id)!);
    })
    .join('');
  return JSON.parse(text) as Record<string, any>;
};

describe('batch state machine', () => {
  it('is one Standard state machine, traced, logging every event without execution data', () => {
    expect(Object.keys(machines)).toHaveLength(1);
    expect(machine.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
  });

  it('prepares, waits for the schedule, maps over chunk references at most 40 at a time, settles, and starts the next pass as a new execution', () => {
    const def = deployedDefinition();
    expect(def.StartAt).toBe('Prepare');
    // Each Lambda state times out with its function (no default 60 s locally, none on AWS).
    const timeout = (name: string) => FUNCTIONS.find((f) => f.name === name)!.timeoutSeconds;
    expect(def.States.Prepare).toMatchObject({
      Type: 'Task',
      Resource: localFunctionArn('batch-prepare'),
      ResultPath: null,
      Next: 'Scheduled',
      TimeoutSeconds: timeout('batch-prepare'),
    });
    expect(def.States.Scheduled).toEqual({ Type: 'Wait', TimestampPath: '$.startAt', Next: 'Chunks' });
    expect(def.States.Chunks).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.chunks',
      MaxConcurrency: BATCH_WORKFLOW.maxConcurrency,
      ResultPath: null,
      ItemSelector: {
        'project.$': '$.project',
        'taskId.$': '$.taskId',
        'run.$': '$.run',
        'chunk.$': '$$.Map.Item.Value',
        'reclaim.$': '$.reclaim',
      },
      Next: 'Settle',
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Settle', ResultPath: '$.error' }],
    });
    expect(BATCH_WORKFLOW.maxConcurrency).toBe(40);
    // One iteration: send, and while the chunk names a time to come back (pacing), wait and send again.
    const iteration = def.States.Chunks.ItemProcessor;
    expect(iteration.StartAt).toBe('SendChunk');
    expect(iteration.States.SendChunk).toMatchObject({
      Type: 'Task',
      Resource: localFunctionArn('batch-chunk'),
      Next: 'ChunkDone',
      TimeoutSeconds: timeout('batch-chunk'),
    });
    expect(def.States.Settle.TimeoutSeconds).toBe(timeout('batch-settle'));
    expect(iteration.States.ChunkDone).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.waitUntil', IsPresent: true, Next: 'Pace' }],
      Default: 'ChunkSent',
    });
    expect(iteration.States.Pace).toEqual({ Type: 'Wait', TimestampPath: '$.waitUntil', Next: 'SendChunk' });
    // Settle keeps the execution input (the next pass needs it) and its answer decides whether to pass again.
    expect(def.States.Settle).toMatchObject({
      Type: 'Task',
      Resource: localFunctionArn('batch-settle'),
      ResultPath: '$.settled',
      Next: 'Again',
    });
    expect(def.States.Again).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.settled.retryAt', IsPresent: true, Next: 'NextPass' }],
      Default: 'Ended',
    });
    // No loop back: the next pass is an execution of its own, of this same state machine, named by pass.
    expect(def.States.NextPass).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::states:startExecution',
      Parameters: {
        'StateMachineArn.$': '$$.StateMachine.Id',
        'Name.$': "States.Format('{}-{}-{}', $.taskId, $.run, $.settled.pass)",
        Input: {
          'startAt.$': '$.settled.retryAt',
          'pass.$': '$.settled.pass',
          'chunks.$': '$.chunks',
          'run.$': '$.run',
        },
      },
      ResultPath: null,
      Next: 'Ended',
      Catch: [{ ErrorEquals: ['StepFunctions.ExecutionAlreadyExistsException'], Next: 'Ended' }],
    });
    const transitions = JSON.stringify(def.States).match(/"(Next|Default)":"[^"]+"/g) ?? [];
    expect(transitions.filter((t) => /"(Prepare|Scheduled|Chunks)"$/.test(t))).toEqual([
      '"Next":"Scheduled"',
      '"Next":"Chunks"',
    ]);
  });

  it('keeps one execution under 25,000 history events at 30,000 targets paced over 1,000 minutes, every call failing all its retries', () => {
    const def = deployedDefinition();
    const iteration = def.States.Chunks.ItemProcessor.States;
    // The retries a failing call gets (Lambda service errors aside: their own retrier is not this design's case).
    const retries = (state: any) =>
      Math.max(
        0,
        ...(state.Retry ?? [])
          .filter((r: any) => r.ErrorEquals.includes('States.ALL'))
          .map((r: any) => r.MaxAttempts ?? 3),
      );
    // AWS's events for a Task state: entered, scheduled, started, its result, exited; each retry three more.
    const task = (state: any, events = 5) => events + 3 * retries(state);
    const perIteration = 2 + task(iteration.SendChunk) + 2 + 2; // started and succeeded, the call, ChunkDone, ChunkSent
    const perPacedMinute = 2 + task(iteration.SendChunk) + 2; // Pace, the call again, ChunkDone
    const around =
      2 + task(def.States.Prepare) + 2 + 4 + task(def.States.Settle) + 2 + task(def.States.NextPass, 6) + 2;
    const worst = around + chunkCount(MAX_TARGETS) * perIteration + MAX_PACED_MINUTES * perPacedMinute;
    expect(worst).toBeLessThan(BATCH_WORKFLOW.maxHistoryEvents);
  });

  it('is the definition the local runtime runs, and local/ holds no copy of it', () => {
    expect(synthesizeBatchDefinition(localFunctionArn)).toEqual(deployedDefinition());
    const local = path.join(import.meta.dirname, '../../local');
    for (const file of readdirSync(local).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(path.join(local, file), 'utf8');
      expect(text, file).not.toMatch(/StartAt|MaxConcurrency|"Type":\s*"Map"/);
    }
    expect(readFileSync(path.join(local, 'runtime.ts'), 'utf8')).toContain('synthesizeBatchDefinition(');
  });

  it('may invoke only the prepare, chunk and settle functions, and start only itself', () => {
    const role = logicalId(stack.node.findChild('Batch').node.findChild('StateMachine').node.findChild('Role'));
    const own = statements((roles) => roles.includes(role));
    const invoke = own.filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
    const targets = JSON.stringify(invoke.map((s) => s.Resource));
    const allowed = ['batch-prepare', 'batch-chunk', 'batch-settle'].map((name) => functionIds(stack, name).fn);
    for (const id of Object.keys(resources(template, 'AWS::Lambda::Function')))
      expect(targets.includes(id), id).toBe(allowed.includes(id));
    // The one unscoped statement is for X-Ray and log delivery, which have no resource-level permissions.
    for (const s of own.filter((s) => s.Resource === '*'))
      expect(actionsOf(s).every((a) => /^(xray|logs):/.test(a))).toBe(true);
    // Its next pass: StartExecution of this state machine and nothing else.
    const start = own.filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
    expect(start).toEqual([expect.objectContaining({ Action: 'states:StartExecution', Resource: { Ref: machineId } })]);
  });

  it('lets only the functions that start runs (create, stop, retry, the sweeper) start them, and only of this state machine', () => {
    const machineRole = logicalId(stack.node.findChild('Batch').node.findChild('StateMachine').node.findChild('Role'));
    const starters = policies.filter(
      (p) =>
        !JSON.stringify(p.Properties.Roles).includes(machineRole) &&
        (p.Properties.PolicyDocument.Statement as Statement[]).some((s) =>
          actionsOf(s).includes('states:StartExecution'),
        ),
    );
    const expected = FUNCTIONS.filter((f) => f.access.startBatch).map((f) => f.name);
    expect(expected).toEqual(['create-batch-task', 'stop-batch-task', 'retry-batch-task', 'batch-sweeper']);
    expect(starters).toHaveLength(expected.length);
    const roles = JSON.stringify(starters.map((p) => p.Properties.Roles));
    for (const name of expected) expect(roles).toContain(functionIds(stack, name).role);
    for (const starter of starters) {
      const start = (starter.Properties.PolicyDocument.Statement as Statement[]).filter((s) =>
        actionsOf(s).includes('states:StartExecution'),
      );
      expect(start).toEqual([
        expect.objectContaining({ Action: 'states:StartExecution', Resource: { Ref: machineId } }),
      ]);
    }
    // Only the sweeper looks at how runs stand.
    const watchers = policies.filter((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).some((s) =>
        actionsOf(s).includes('states:DescribeExecution'),
      ),
    );
    expect(watchers).toHaveLength(1);
    expect(JSON.stringify(watchers[0]!.Properties.Roles)).toContain(functionIds(stack, 'batch-sweeper').role);
    const lambdas = resources(template, 'AWS::Lambda::Function');
    for (const def of FUNCTIONS) {
      const vars = lambdas[functionIds(stack, def.name).fn]!.Properties.Environment.Variables;
      expect(vars.DOWNLINK_BATCH_STATE_MACHINE_ARN, def.name).toEqual(
        def.access.startBatch ? { Ref: machineId } : undefined,
      );
    }
  });

  it('gives the chunk function a timeout beyond one sync wait and publish rights under device topics only', () => {
    const props = resources(template, 'AWS::Lambda::Function')[functionIds(stack, 'batch-chunk').fn]!.Properties;
    expect(props.Timeout).toBeGreaterThan(20 + 30);
    const iot = statements((roles) => roles.includes(functionIds(stack, 'batch-chunk').role)).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('iot:')),
    );
    expect(iot).toHaveLength(1);
    // createMessages sends on any of a device's topics (custom ones too), createCommands on its command topic.
    expect(JSON.stringify(iot[0]!.Resource)).toMatch(/:topic\/oc\/devices\/\*\/\*"\]\]\}$/);
  });
});
