import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BATCH_WORKFLOW, FUNCTIONS } from '../../functions/manifest.ts';
import { localFunctionArn, synthesizeBatchDefinition } from '../../infra/constructs/batch.ts';
import { functionIds, logicalId, resources, synthStack } from './synth.ts';

const { stack, template } = synthStack();
const machines = resources(template, 'AWS::StepFunctions::StateMachine');
const [machineId, machine] = Object.entries(machines)[0]!;
const policies = Object.values(resources(template, 'AWS::IAM::Policy'));
type Statement = { Action: string | string[]; Resource: unknown };
const statements = (filter: (roles: string) => boolean) =>
  policies.filter((p) => filter(JSON.stringify(p.Properties.Roles))).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
const actionsOf = (s: Statement) => [s.Action].flat();

/** The deployed definition, with each function's ARN (a GetAtt in the template) put back as the local runtime names it. */
const deployedDefinition = () => {
  const byLogicalId = new Map(FUNCTIONS.map((def) => [functionIds(stack, def.name).fn, def.name]));
  const parts = (machine.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const text = parts
    .map((p) => {
      if (typeof p === 'string') return p;
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

  it('maps over chunk references at most 40 at a time, discarding results, then settles', () => {
    const def = deployedDefinition();
    expect(def.StartAt).toBe('Chunks');
    expect(def.States.Chunks).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.chunks',
      MaxConcurrency: BATCH_WORKFLOW.maxConcurrency,
      ResultPath: null,
      ItemSelector: { 'project.$': '$.project', 'taskId.$': '$.taskId', 'chunk.$': '$$.Map.Item.Value', 'reclaim.$': '$.reclaim' },
      Next: 'Settle',
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Settle' }],
    });
    expect(BATCH_WORKFLOW.maxConcurrency).toBe(40);
    expect(def.States.Chunks.ItemProcessor.States.SendChunk).toMatchObject({ Type: 'Task', Resource: localFunctionArn('batch-chunk') });
    expect(def.States.Settle).toMatchObject({ Type: 'Task', Resource: localFunctionArn('batch-settle'), End: true });
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

  it('may invoke only the chunk and settle functions', () => {
    const role = logicalId(stack.node.findChild('Batch').node.findChild('StateMachine').node.findChild('Role'));
    const own = statements((roles) => roles.includes(role));
    const invoke = own.filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
    const targets = JSON.stringify(invoke.map((s) => s.Resource));
    const allowed = [functionIds(stack, 'batch-chunk').fn, functionIds(stack, 'batch-settle').fn];
    for (const id of Object.keys(resources(template, 'AWS::Lambda::Function')))
      expect(targets.includes(id), id).toBe(allowed.includes(id));
    // The one unscoped statement is for X-Ray and log delivery, which have no resource-level permissions.
    for (const s of own.filter((s) => s.Resource === '*')) expect(actionsOf(s).every((a) => /^(xray|logs):/.test(a))).toBe(true);
  });

  it('lets only the create function start runs, and only of this state machine', () => {
    const starters = policies.filter((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).some((s) => actionsOf(s).includes('states:StartExecution')),
    );
    expect(starters).toHaveLength(1);
    expect(JSON.stringify(starters[0]!.Properties.Roles)).toContain(functionIds(stack, 'create-batch-task').role);
    const start = (starters[0]!.Properties.PolicyDocument.Statement as Statement[]).filter((s) => actionsOf(s).includes('states:StartExecution'));
    expect(start).toEqual([expect.objectContaining({ Action: 'states:StartExecution', Resource: { Ref: machineId } })]);
    const lambdas = resources(template, 'AWS::Lambda::Function');
    for (const def of FUNCTIONS) {
      const vars = lambdas[functionIds(stack, def.name).fn]!.Properties.Environment.Variables;
      expect(vars.DOWNLINK_BATCH_STATE_MACHINE_ARN, def.name).toEqual(def.access.startBatch ? { Ref: machineId } : undefined);
    }
  });

  it('gives the chunk function a timeout beyond one sync wait and publish rights under device topics only', () => {
    const props = resources(template, 'AWS::Lambda::Function')[functionIds(stack, 'batch-chunk').fn]!.Properties;
    expect(props.Timeout).toBeGreaterThan(20 + 30);
    const iot = statements((roles) => roles.includes(functionIds(stack, 'batch-chunk').role)).filter((s) => actionsOf(s).some((a) => a.startsWith('iot:')));
    expect(iot).toHaveLength(1);
    // createMessages sends on any of a device's topics (custom ones too), createCommands on its command topic.
    expect(JSON.stringify(iot[0]!.Resource)).toMatch(/:topic\/oc\/devices\/\*\/\*"\]\]\}$/);
  });
});
