import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Access, FunctionDef } from '../../functions/manifest.ts';
import { acknowledgeIndexWildcard } from './data.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** AWS IoT Core reserves every topic that starts with `$`, so devices use `oc/...` there (CONTRACT.md §2). */
export const TOPIC_ROOT = 'oc';

/** Lambda's own 3 s is too short for a cold start that reads DynamoDB; manifest entries may ask for more. */
export const DEFAULT_TIMEOUT_SECONDS = 10;

/** How every function is bundled; test/infra/bundles.test.ts runs esbuild with these options to weigh each bundle. */
export const BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node22',
  mainFields: ['module', 'main'],
  // Bundled CommonJS dependencies call require(), which an ES module lacks.
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  // The SDK version we test against locally is the one that runs.
  bundleAwsSDK: true,
  minify: true,
  sourceMap: true,
} satisfies BundlingOptions;

/** What a function's `access` can be bound to. */
export interface Bindings {
  table: ITable;
  notifications: IQueue;
  /** `https://` URL of the account's iot:Data-ATS endpoint; present when some function publishes. */
  iotDataEndpoint?: string;
}

/**
 * One manifest function with the project's defaults: Node.js 22 on arm64, an ESM bundle built by local
 * esbuild (no Docker), its own log group, and exactly the access the manifest asks for.
 */
export class DownlinkFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, def: FunctionDef, bindings: Bindings) {
    super(scope, def.name);
    const logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH });
    // Its own role that may write only its own log group; the managed basic execution role allows every group.
    const role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    this.fn = new NodejsFunction(this, 'Function', {
      entry: path.join(ROOT, def.entry),
      handler: 'handler',
      // DESIGN.md "Runtime and dependencies": Node.js 22 everywhere.
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      // Lambda gives CPU in proportion to memory; 128 MB makes the cold start of a bundled SDK slow.
      memorySize: 256,
      timeout: Duration.seconds(def.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS),
      role,
      logGroup,
      projectRoot: ROOT,
      depsLockFilePath: path.join(ROOT, 'package-lock.json'),
      // Source maps make logged stack traces point at the TypeScript sources.
      environment: { DOWNLINK_TOPIC_ROOT: TOPIC_ROOT, NODE_OPTIONS: '--enable-source-maps' },
      bundling: BUNDLING,
      // X-Ray: Lambda's own segment, and the handler's from Powertools Tracer (shared/handler-stack.ts).
      tracing: Tracing.ACTIVE,
    });
    bindAccess(this, this.fn, def.access, bindings);
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Active tracing: xray:PutTraceSegments and PutTelemetryRecords take no resource (X-Ray has none).',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'DESIGN.md pins Node.js 22 for Lambda and development alike (nodejs22.x is supported to Apr 2027).',
    });
  }
}

/**
 * Grants what `access` names and sets the configuration that goes with it, in one place (shared/config.ts reads
 * it).
 */
const bindAccess = (scope: Construct, fn: NodejsFunction, access: Access, b: Bindings): void => {
  // shared/config.ts requires the table name in every function.
  fn.addEnvironment('DOWNLINK_TABLE', b.table.tableName);
  if (access.table === 'read') b.table.grantReadData(fn);
  if (access.table === 'write') b.table.grantReadWriteData(fn);
  if (access.table) acknowledgeIndexWildcard(scope, b.table);
  if (access.notify) {
    fn.addEnvironment('DOWNLINK_NOTIFICATION_QUEUE_URL', b.notifications.queueUrl);
    b.notifications.grantSendMessages(fn);
  }
  if (access.publish || access.disconnect) {
    if (!b.iotDataEndpoint) throw new Error(`${fn.node.path} uses IoT data but no IoT data endpoint was bound`);
    fn.addEnvironment('DOWNLINK_IOT_DATA_ENDPOINT', b.iotDataEndpoint);
  }
  if (access.publish) grantPublishToDevices(scope, fn, access.publish);
  if (access.disconnect) grantDisconnectDevices(scope, fn);
};

/**
 * DeleteConnection of any device's client: a deleted device's connection is cut (its client id carries an hour
 * stamp).
 */
const grantDisconnectDevices = (scope: Construct, fn: NodejsFunction): void => {
  const clients = Stack.of(fn).formatArn({
    service: 'iot',
    resource: 'client',
    resourceName: '*',
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  fn.addToRolePolicy(new PolicyStatement({ actions: ['iot:DeleteConnection'], resources: [clients] }));
  Validations.of(scope).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:client/*]',
    reason: 'Deleting a device cuts its connection; devices are data, not stack resources.',
  });
};

/** Only the downlink topics the manifest names (IoTDA §4.3), under every device's own prefix. */
const grantPublishToDevices = (scope: Construct, fn: NodejsFunction, suffixes: string[]): void => {
  const topics = suffixes.map((suffix) =>
    Stack.of(fn).formatArn({
      service: 'iot',
      resource: 'topic',
      resourceName: `${TOPIC_ROOT}/devices/*/${suffix}`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    }),
  );
  fn.addToRolePolicy(new PolicyStatement({ actions: ['iot:Publish'], resources: topics }));
  for (const suffix of suffixes) {
    Validations.of(scope).acknowledge({
      id:
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:' +
        `topic/${TOPIC_ROOT}/devices/*/${suffix}]`,
      reason: 'The API sends requests to any device of the deployment; devices are data, not stack resources.',
    });
  }
};
