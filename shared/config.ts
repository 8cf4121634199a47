import * as z from 'zod';
import { DEFAULT_REGION } from './aws-names.ts';

const LogLevel = z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']);
export type LogLevel = z.output<typeof LogLevel>;
export type TopicRoot = 'oc' | '$oc';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** The variables both runtimes read: the Lambda functions' (below) and the local runtime's (local/settings.ts). */
export const sharedEnv = z.object({
  DOWNLINK_TOPIC_ROOT: z.enum(['oc', '$oc']).default('oc'),
  DOWNLINK_COMMAND_TIMEOUT_MS: positiveInt(20_000),
  DOWNLINK_TTL_MINUTE_MS: positiveInt(60_000),
  DOWNLINK_LOG_LEVEL: LogLevel.default('INFO'),
});

/** A log level, with the runtime's own default. */
export const logLevel = (fallback: LogLevel) => LogLevel.default(fallback);

/** What every handler needs to know, parsed once per runtime (Lambda env, or the local runtime's settings). */
export interface Config {
  region: string;
  tableName: string;
  notificationQueueUrl: string;
  topicRoot: TopicRoot;
  commandTimeoutMs: number;
  ttlMinuteMs: number;
  logLevel: LogLevel;
  /** The account's IoT data endpoint (AWS: iot:Data-ATS), which the SDK cannot find by itself. */
  iotDataEndpoint?: string;
  /** Emulator endpoints (local runtime only); absent on AWS, where the SDK finds the services. */
  endpoints?: { dynamodb?: string; sqs?: string; iotData?: string; stepFunctions?: string };
  /** The batch task state machine; set only for functions the manifest lets start it. */
  batchStateMachineArn: string;
  /** Push URLs may be http and reach loopback/private hosts (CONTRACT.md §7): locally yes, on AWS never. */
  pushAllowPrivate: boolean;
}

/** 'true' or 'false' (z.coerce.boolean would read 'false' as true). */
export const booleanSetting = (fallback: boolean) =>
  z
    .enum(['true', 'false'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true');

const lambdaEnv = sharedEnv.extend({
  AWS_REGION: z.string().default(DEFAULT_REGION),
  DOWNLINK_TABLE: z.string().min(1),
  // Set only for functions the manifest lets notify (infra binds URL and permission together); '' elsewhere.
  DOWNLINK_NOTIFICATION_QUEUE_URL: z.string().default(''),
  DOWNLINK_IOT_DATA_ENDPOINT: z.string().optional(),
  // Set only for functions the manifest lets start batch runs (infra binds ARN and permission together).
  DOWNLINK_BATCH_STATE_MACHINE_ARN: z.string().default(''),
  // The stack never sets it: on AWS push URLs must be https to public addresses.
  DOWNLINK_PUSH_ALLOW_PRIVATE: booleanSetting(false),
});

/** The Lambda functions' configuration, from the variables the CDK stack sets. */
export const configFromEnv = (env: NodeJS.ProcessEnv): Config => {
  const e = lambdaEnv.parse(env);
  return {
    region: e.AWS_REGION,
    tableName: e.DOWNLINK_TABLE,
    notificationQueueUrl: e.DOWNLINK_NOTIFICATION_QUEUE_URL,
    topicRoot: e.DOWNLINK_TOPIC_ROOT,
    commandTimeoutMs: e.DOWNLINK_COMMAND_TIMEOUT_MS,
    ttlMinuteMs: e.DOWNLINK_TTL_MINUTE_MS,
    logLevel: e.DOWNLINK_LOG_LEVEL,
    batchStateMachineArn: e.DOWNLINK_BATCH_STATE_MACHINE_ARN,
    pushAllowPrivate: e.DOWNLINK_PUSH_ALLOW_PRIVATE,
    ...(e.DOWNLINK_IOT_DATA_ENDPOINT ? { iotDataEndpoint: e.DOWNLINK_IOT_DATA_ENDPOINT } : {}),
  };
};
