import * as z from 'zod';
import { API_SETTINGS } from '../functions/manifest.ts';
import { booleanSetting, type LogLevel, logLevel, sharedEnv, type TopicRoot } from '../shared/config.ts';

/** The local runtime's settings (CONTRACT.md §4), from DOWNLINK_* variables. */
export interface LocalSettings {
  host: string;
  httpPort: number;
  mqttPort: number;
  sqsPort: number;
  dynamodbPort: number;
  topicRoot: TopicRoot;
  /** Where data survives restarts; undefined keeps everything in memory (tests). */
  dataDir: string | undefined;
  bootstrapToken: string | undefined;
  bootstrapProject: string;
  commandTimeoutMs: number;
  ttlMinuteMs: number;
  logLevel: LogLevel;
  /** API Gateway's authorizer cache; the stack's value unless told otherwise. */
  authorizerCacheSeconds: number;
  /** Push URLs may be http and reach loopback/private hosts, so a receiver on this machine can be used. */
  pushAllowPrivate: boolean;
}

const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);

const Env = sharedEnv.extend({
  DOWNLINK_HOST: z.string().default('127.0.0.1'),
  DOWNLINK_HTTP_PORT: port(8080),
  DOWNLINK_MQTT_PORT: port(1883),
  DOWNLINK_SQS_PORT: port(9324),
  DOWNLINK_DYNAMODB_PORT: port(8000),
  DOWNLINK_DATA_DIR: z.string().min(1).default('./.downlink'),
  DOWNLINK_BOOTSTRAP_TOKEN: z.string().min(16).optional(),
  DOWNLINK_BOOTSTRAP_PROJECT: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('demo'),
  // Quieter than on AWS: a terminal, not a log group.
  DOWNLINK_LOG_LEVEL: logLevel('WARN'),
  DOWNLINK_AUTH_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(API_SETTINGS.authorizerCacheSeconds),
  DOWNLINK_PUSH_ALLOW_PRIVATE: booleanSetting(true),
});

export const settingsFromEnv = (env: NodeJS.ProcessEnv): LocalSettings => {
  const e = Env.parse(env);
  return {
    host: e.DOWNLINK_HOST,
    httpPort: e.DOWNLINK_HTTP_PORT,
    mqttPort: e.DOWNLINK_MQTT_PORT,
    sqsPort: e.DOWNLINK_SQS_PORT,
    dynamodbPort: e.DOWNLINK_DYNAMODB_PORT,
    topicRoot: e.DOWNLINK_TOPIC_ROOT,
    dataDir: e.DOWNLINK_DATA_DIR,
    bootstrapToken: e.DOWNLINK_BOOTSTRAP_TOKEN,
    bootstrapProject: e.DOWNLINK_BOOTSTRAP_PROJECT,
    commandTimeoutMs: e.DOWNLINK_COMMAND_TIMEOUT_MS,
    ttlMinuteMs: e.DOWNLINK_TTL_MINUTE_MS,
    logLevel: e.DOWNLINK_LOG_LEVEL,
    authorizerCacheSeconds: e.DOWNLINK_AUTH_CACHE_SECONDS,
    pushAllowPrivate: e.DOWNLINK_PUSH_ALLOW_PRIVATE,
  };
};

/** Settings for tests and benchmarks: free ports, nothing on disk, quiet. */
export const ephemeralSettings = (overrides: Partial<LocalSettings> = {}): LocalSettings => ({
  host: '127.0.0.1',
  httpPort: 0,
  mqttPort: 0,
  sqsPort: 0,
  dynamodbPort: 0,
  topicRoot: 'oc',
  dataDir: undefined,
  bootstrapToken: undefined,
  bootstrapProject: 'test',
  commandTimeoutMs: 20_000,
  ttlMinuteMs: 60_000,
  logLevel: 'SILENT',
  authorizerCacheSeconds: API_SETTINGS.authorizerCacheSeconds,
  pushAllowPrivate: true,
  ...overrides,
});
