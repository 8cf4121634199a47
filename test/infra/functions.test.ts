import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, QUEUES } from '../../functions/manifest.ts';
import { DEFAULT_TIMEOUT_SECONDS } from '../../infra/constructs/downlink-function.ts';
import { DownlinkStack } from '../../infra/stack.ts';
import { configFromEnv } from '../../shared/config.ts';
import { appWithoutBundling, functionIds, logicalId, resources, synthStack, withFunction } from './synth.ts';

const { stack, template } = synthStack();
const lambdas = resources(template, 'AWS::Lambda::Function');
const tableId = logicalId(stack.node.findChild('Table'));

/** Statements of the policies attached to a role. */
const statementsOf = (roleId: string) =>
  Object.values(resources(template, 'AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);

describe('functions', () => {
  it('deploys exactly one Lambda per manifest function, besides the deploy-time helpers CDK provides', () => {
    const ours = FUNCTIONS.map((def) => functionIds(stack, def.name).fn);
    const others = Object.keys(lambdas).filter((id) => !ours.includes(id));
    expect(new Set(ours).size).toBe(FUNCTIONS.length);
    // The IoT endpoint lookup, the console's bucket deployment, and the console bucket's emptying on delete.
    expect(others.sort()).toEqual([
      expect.stringMatching(/^AWS[0-9a-f]{32}/),
      expect.stringMatching(/^CustomCDKBucketDeployment/),
      expect.stringMatching(/^CustomS3AutoDeleteObjectsCustomResourceProviderHandler/),
    ]);
  });

  it.each(FUNCTIONS)('runs $name on nodejs22.x arm64 with its handler, actively traced', (def) => {
    const props = lambdas[functionIds(stack, def.name).fn]!.Properties;
    expect(props).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: def.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
      TracingConfig: { Mode: 'Active' },
    });
  });

  it.each(FUNCTIONS)('gives $name the configuration its access needs, which shared/config.ts accepts', (def) => {
    const vars = lambdas[functionIds(stack, def.name).fn]!.Properties.Environment.Variables as Record<string, unknown>;
    expect(vars.DOWNLINK_TABLE).toEqual({ Ref: tableId });
    expect(vars.DOWNLINK_TOPIC_ROOT).toBe('oc');
    expect('DOWNLINK_NOTIFICATION_QUEUE_URL' in vars).toBe(Boolean(def.access.notify));
    expect('DOWNLINK_IOT_DATA_ENDPOINT' in vars).toBe(Boolean(def.access.publish || def.access.disconnect));
    // Deploy-time values are tokens here; any string stands in for them.
    const env = Object.fromEntries(
      Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : `resolved-${k}`]),
    );
    expect(() => configFromEnv(env)).not.toThrow();
    // CONTRACT.md §7: on AWS push URLs are https to public addresses only, whatever the function.
    expect(configFromEnv(env).pushAllowPrivate).toBe(false);
  });

  it('grants the device authorizer DynamoDB read on the table, its own logs and its traces, nothing else', () => {
    const { role } = functionIds(stack, 'device-authorizer');
    const statements = statementsOf(role);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => !a.startsWith('logs:'))).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']),
    );
    const writes = /^dynamodb:(Put|Update|Delete|BatchWrite)/;
    expect(actions.filter((a) => writes.test(a) || !/^(dynamodb|logs|xray):/.test(a))).toEqual([]);
    // Active tracing: X-Ray's two write actions, which take no resource.
    expect(actions.filter((a) => a.startsWith('xray:')).sort()).toEqual([
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    for (const s of statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')))) {
      expect(JSON.stringify(s.Resource)).toContain(tableId);
    }
    const logs = logicalId(stack.node.findChild('device-authorizer').node.findChild('Logs'));
    for (const s of statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('logs:')))) {
      expect(s.Resource).toEqual({ 'Fn::GetAtt': [logs, 'Arn'] });
    }
    // No managed policy (AWSLambdaBasicExecutionRole would allow logs in every group).
    expect(resources(template, 'AWS::IAM::Role')[role]!.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('lets only functions with notify access send to the notification queue', () => {
    const queue = logicalId(stack.node.findChild('Queues').node.findChild('notifications'));
    for (const def of FUNCTIONS) {
      const sends = statementsOf(functionIds(stack, def.name).role).some(
        (s) => [s.Action].flat().includes('sqs:SendMessage') && JSON.stringify(s.Resource).includes(queue),
      );
      expect(sends, def.name).toBe(Boolean(def.access.notify));
    }
  });
});

describe('queue triggers', () => {
  const queueTriggers = FUNCTIONS.flatMap((def) =>
    def.triggers.flatMap((t) => (t.kind === 'queue' ? [{ name: def.name, trigger: t }] : [])),
  );

  it.each(queueTriggers)(
    'feeds $trigger.queue to $name in batches, reporting partial failures',
    ({ name, trigger }) => {
      const queue = logicalId(stack.node.findChild('Queues').node.findChild(trigger.queue));
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: functionIds(stack, name).fn },
        EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
        BatchSize: trigger.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    },
  );

  it('refuses a queue whose visibility timeout is shorter than its function timeout', () => {
    const slow = {
      name: 'slow-presence',
      entry: 'functions/sqs/presence.ts',
      triggers: [{ kind: 'queue' as const, queue: 'presence' as const, batchSize: 1 }],
      access: {},
      timeoutSeconds: QUEUES.presence.visibilityTimeoutSeconds + 1,
    };
    expect(() => new DownlinkStack(appWithoutBundling(), 'Downlink', { manifest: withFunction(slow) })).toThrow(
      /less than slow-presence's timeout/,
    );
  });
});

describe('a function with publish access', () => {
  const publisher = {
    name: 'publisher',
    entry: 'functions/api/show-device.ts',
    triggers: [],
    access: { publish: ['sys/x/*', 'user/*'] },
  };
  const variant = synthStack(withFunction(publisher));

  it('gets the account iot:Data-ATS endpoint from IoT DescribeEndpoint', () => {
    variant.template.hasResourceProperties('Custom::AWS', {
      Create: Match.serializedJson(
        Match.objectLike({ service: 'Iot', action: 'describeEndpoint', parameters: { endpointType: 'iot:Data-ATS' } }),
      ),
    });
    const vars = resources(variant.template, 'AWS::Lambda::Function')[functionIds(variant.stack, 'publisher').fn]!
      .Properties.Environment.Variables;
    expect(JSON.stringify(vars.DOWNLINK_IOT_DATA_ENDPOINT)).toMatch(/https:\/\/.*endpointAddress/);
  });

  it('may publish only to the device topics the manifest names', () => {
    const { role } = functionIds(variant.stack, 'publisher');
    const policies = resources(variant.template, 'AWS::IAM::Policy');
    const statements = Object.values(policies)
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string; Resource: unknown[] }[])
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('iot:')));
    expect(statements).toHaveLength(1);
    expect(statements[0]!.Action).toBe('iot:Publish');
    expect(JSON.stringify(statements[0]!.Resource)).toMatch(
      /topic\/oc\/devices\/\*\/sys\/x\/\*.*topic\/oc\/devices\/\*\/user\/\*/,
    );
    expect(statements[0]!.Resource).toHaveLength(2);
  });

  it('asks IoT for its endpoint once, however many functions publish', () => {
    template.resourceCountIs('Custom::AWS', 1);
    variant.template.resourceCountIs('Custom::AWS', 1);
  });

  it('lets the sync-request functions publish only on their own request topics', () => {
    for (const [name, suffix] of [
      ['create-command', 'sys/commands/*'],
      ['update-properties', 'sys/properties/set/*'],
      ['query-properties', 'sys/properties/get/*'],
    ] as const) {
      const { role } = functionIds(stack, name);
      const iot = Object.values(resources(template, 'AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string; Resource: unknown }[])
        .filter((st) => [st.Action].flat().some((a) => a.startsWith('iot:')));
      expect(iot, name).toHaveLength(1);
      expect(JSON.stringify(iot[0]!.Resource), name).toBe(
        JSON.stringify({
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':iot:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              `:topic/oc/devices/*/${suffix}`,
            ],
          ],
        }),
      );
    }
  });
});

describe('device delete', () => {
  it('may cut device connections (iot:DeleteConnection on clients) and publishes nothing', () => {
    const iot = statementsOf(functionIds(stack, 'delete-device').role).filter((st) =>
      [st.Action].flat().some((a) => a.startsWith('iot:')),
    );
    expect(iot).toHaveLength(1);
    expect(iot[0]!.Action).toBe('iot:DeleteConnection');
    expect(JSON.stringify(iot[0]!.Resource)).toBe(
      JSON.stringify({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':iot:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':client/*',
          ],
        ],
      }),
    );
  });
});

describe('schedules', () => {
  it('runs each schedule trigger from an EventBridge rule at its rate', () => {
    const schedules = FUNCTIONS.flatMap((def) =>
      def.triggers.flatMap((t) => (t.kind === 'schedule' ? [{ def, t }] : [])),
    );
    expect(schedules.map(({ def }) => def.name)).toEqual(['message-sweeper', 'batch-sweeper']);
    for (const { def, t } of schedules)
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: `rate(${t.everyMinutes} minute${t.everyMinutes === 1 ? '' : 's'})`,
        State: 'ENABLED',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionIds(stack, def.name).fn, 'Arn'] } })],
      });
  });
});
