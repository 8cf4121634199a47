import { settingsFromEnv } from './settings.ts';
import { startRuntime } from './runtime.ts';
import { ensureConsoleBuilt } from './console-site.ts';

// `npm start`: the whole platform on this machine (CONTRACT.md §4).
await ensureConsoleBuilt((line) => console.log(line));
const runtime = await startRuntime(settingsFromEnv(process.env));
console.log(
  `downlink ready: api ${runtime.httpUrl}/v5/iot/${runtime.project}  mqtt ${runtime.mqttUrl}  sqs ${runtime.sqsUrl}  ` +
    `dynamodb ${runtime.dynamodbUrl}  console ${runtime.httpUrl}/console/  ` +
    `project ${runtime.project}  X-Auth-Token ${runtime.token}`,
);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  runtime.stop().then(
    () => {
      console.log(`downlink stopped (${signal})`);
      process.exit(0);
    },
    (e: unknown) => {
      console.error('downlink stop failed', e);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
