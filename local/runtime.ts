import type { Aedes } from 'aedes';
import type { Context } from 'aws-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { batchedSqsSender } from '../shared/adapters/aws/batched-sqs-sender.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  FUNCTIONS,
  iotRules,
  theOneWith,
  type FunctionDef,
  type QueueName,
  type RuleTarget,
} from '../functions/manifest.ts';
import { invoked } from './call-meter.ts';
import { lambdaContext } from './lambda-context.ts';
import { endOrphanedSessions } from './orphaned-sessions.ts';
import type { Config } from '../shared/config.ts';
import { iotDataPublisher } from '../shared/adapters/aws/iot-data-publisher.ts';
import { sfnTaskRunner } from '../shared/adapters/aws/sfn-task-runner.ts';
import { sqsNotifier } from '../shared/adapters/aws/sqs-notifier.ts';
import { sqsPushQueue } from '../shared/adapters/aws/sqs-push-queue.ts';
import { clientOptions } from '../shared/adapters/aws/client-options.ts';
import { createDeps } from '../functions/create-deps.ts';
import type { Deps } from '../shared/ports/deps.ts';
import { localTelemetry } from '../shared/telemetry.ts';
import { generateToken } from '../shared/domain/api-tokens.ts';
import { createApiToken } from '../shared/use-cases/manage-api-tokens.ts';
import { startApiGateway, type HttpRoute } from './api-gateway.ts';
import { consoleSite } from './console-site.ts';
import { startBroker } from './broker.ts';
import { signInThroughAuthorizer, type ConnectionGrant, type MqttSignIn } from './device-sign-in.ts';
import { ensureTable, startDynamoDb } from './dynamodb.ts';
import { startIotDataEndpoint } from './iot-data-endpoint.ts';
import { serveServerInProcess, serveWorkerInProcess } from './in-process-transport.ts';
import { startStepFunctionsEndpoint } from './step-functions.ts';
import { compileRule, topicMatches } from './iot-rules.ts';
import type { LocalSettings } from './settings.ts';
import { ensureQueues, startSqs } from './sqs.ts';
import { startSqsPoller } from './sqs-poller.ts';
import { DEFAULT_REGION, localArn } from '../shared/aws-names.ts';

const TABLE_NAME = 'downlink';
const ROOT = resolve(import.meta.dirname, '..');

// The event a handler takes depends on its trigger (API Gateway, SQS, IoT rule, schedule), which the
// manifest pairs with it; at this one boundary the runtime does not know more than that.
type LocalHandler = (event: any, context: Context) => Promise<any>;

const loadHandler = async (fn: FunctionDef, deps: Deps): Promise<LocalHandler> => {
  const mod = (await import(pathToFileURL(join(ROOT, fn.entry)).href)) as { build: (deps: Deps) => LocalHandler };
  // Marks each invocation for local/call-meter.ts (a plain call until a bench or test installs it).
  return invoked(fn.name, fn.triggers[0]?.kind ?? 'invoked', mod.build(deps));
};

/** The token printed at start: the configured one, or one kept in the data dir so it survives restarts. */
const bootstrapToken = (settings: LocalSettings): string => {
  if (settings.bootstrapToken) return settings.bootstrapToken;
  if (!settings.dataDir) return generateToken();
  const file = join(settings.dataDir, 'bootstrap-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = generateToken();
  mkdirSync(settings.dataDir, { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
};

type Stops = (() => Promise<void>)[];
type OnError = (e: unknown) => void;
type Loaded = { fn: FunctionDef; handler: LocalHandler }[];

/** DynamoDB (dynalite) and SQS (fauxqs), with the table and queues the stack creates. */
const startStorage = async (settings: LocalSettings, stops: Stops) => {
  const dynamo = await startDynamoDb(settings.host, settings.dynamodbPort, settings.dataDir);
  stops.push(dynamo.stop);
  // The runtime's own SDK clients reach the emulators without a socket (in-process-transport.ts).
  const dynamoInProcess = serveWorkerInProcess(dynamo.endpoint, dynamo.worker);
  stops.push(async () => dynamoInProcess());
  const sqsServer = await startSqs(settings.host, settings.sqsPort, settings.dataDir);
  stops.push(sqsServer.stop);
  const sqsInProcess = serveServerInProcess(sqsServer.endpoint, sqsServer.server);
  stops.push(async () => sqsInProcess());
  const sqs = new SQSClient(clientOptions(DEFAULT_REGION, sqsServer.endpoint));
  await ensureTable(new DynamoDBClient(clientOptions(DEFAULT_REGION, dynamo.endpoint)), TABLE_NAME);
  const { urls: queueUrls, deadLetters: deadLetterUrls } = await ensureQueues(sqs);
  return { dynamo, sqsServer, sqs, queueUrls, deadLetterUrls };
};

/**
 * IoT Core: the aedes broker and the IoT data endpoint that publishes through it. Device sign-in runs the
 * device authorizer, which needs deps, and deps need the publish endpoint: the broker asks for it late.
 */
const startIotCore = async (settings: LocalSettings, stops: Stops, onError: OnError) => {
  let signIn: ((attempt: MqttSignIn) => Promise<ConnectionGrant | undefined>) | undefined;
  const broker = await startBroker({
    host: settings.host,
    port: settings.mqttPort,
    root: settings.topicRoot,
    signIn: (attempt) => signIn!(attempt),
    onError,
  });
  const iotData = await startIotDataEndpoint(settings.host, broker.broker, onError);
  stops.push(iotData.stop);
  const iotDataInProcess = serveServerInProcess(iotData.endpoint, iotData.server);
  stops.push(async () => iotDataInProcess());
  const signInThrough = (authorizer: LocalHandler) => void (signIn = signInThroughAuthorizer(authorizer));
  return { broker, iotData, signInThrough };
};

/** The batch state machine the stack deploys, synthesized by the same CDK code, run by aws-local-stepfunctions. */
const startBatchStateMachine = async (
  settings: LocalSettings,
  stops: Stops,
  handlerOf: (name: string) => LocalHandler | undefined,
  onError: OnError,
) => {
  const arn = localArn('states', 'stateMachine:downlink-batch');
  const stepFunctions = await startStepFunctionsEndpoint({
    host: settings.host,
    machines: [
      {
        arn,
        definition: async () => {
          const { localFunctionArn, synthesizeBatchDefinition } = await import('../infra/constructs/batch.ts');
          return synthesizeBatchDefinition(localFunctionArn);
        },
      },
    ],
    handlerOf,
    onError,
    dataDir: settings.dataDir,
  });
  // Here only for a failed start; it is stopped again (a no-op then) where it belongs, before the broker.
  stops.push(stepFunctions.stop);
  const sfnInProcess = serveServerInProcess(stepFunctions.endpoint, stepFunctions.server);
  stops.push(async () => sfnInProcess());
  return { arn, stepFunctions };
};

/** Queue consumers, as Lambda event source mappings. */
const startQueueConsumers = (
  handlers: Loaded,
  sqs: SQSClient,
  queueUrls: Record<QueueName, string>,
  onError: OnError,
) => {
  const pollers = handlers.flatMap(({ fn, handler }) =>
    fn.triggers.flatMap((t) =>
      t.kind === 'queue'
        ? [
            startSqsPoller({
              sqs,
              queueUrl: queueUrls[t.queue],
              batchSize: t.batchSize,
              concurrency: t.localConcurrency ?? 1,
              handler,
              functionName: fn.name,
              onError,
            }),
          ]
        : [],
    ),
  );
  return async () => void (await Promise.all(pollers.map((p) => p.stop())));
};

/**
 * IoT rules: the manifest's SQL run on every broker publish; what they select goes to a queue, or to a
 * function invoked asynchronously, as IoT Core invokes Lambda actions. The stop awaits the deliveries begun.
 */
const startIotRules = (
  settings: LocalSettings,
  broker: Aedes,
  byName: Map<string, LocalHandler>,
  sqs: SQSClient,
  queueUrls: Record<QueueName, string>,
  onError: OnError,
) => {
  const pending = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    const p = work.catch(onError);
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  // Off the device's path, as IoT Core's rule engine: a couple of milliseconds' wait for company.
  const sendToQueue = batchedSqsSender(sqs, 2);
  const deliverTo = (target: RuleTarget): ((body: unknown) => Promise<unknown>) => {
    if ('queue' in target) {
      const url = queueUrls[target.queue];
      return (body) => sendToQueue(url, JSON.stringify(body));
    }
    const fn = byName.get(target.function);
    if (!fn) throw new Error(`an IoT rule targets the unknown function ${target.function}`);
    return (body) => fn(body, lambdaContext(target.function));
  };
  const rules = iotRules(settings.topicRoot).map((r) => ({ ...compileRule(r.sql), deliver: deliverTo(r.target) }));
  broker.on('publish', (packet, client) => {
    for (const rule of rules)
      if (topicMatches(rule.filter, packet.topic))
        track(rule.deliver(rule.select(packet.payload as Buffer, packet.topic, client?.id)));
  });
  return async () => void (await Promise.all(pending));
};

/** Schedules, as EventBridge rules: a local "minute" is DOWNLINK_TTL_MINUTE_MS, so tests can shorten it. */
const startSchedules = (settings: LocalSettings, handlers: Loaded, stops: Stops, onError: OnError) => {
  for (const { fn, handler } of handlers)
    for (const t of fn.triggers)
      if (t.kind === 'schedule') {
        let running: Promise<unknown> = Promise.resolve();
        const timer = setInterval(() => {
          running = running.then(() => handler({}, lambdaContext(fn.name))).catch(onError);
        }, t.everyMinutes * settings.ttlMinuteMs);
        stops.push(async () => {
          clearInterval(timer);
          await running;
        });
      }
};

/** API Gateway: the manifest's routes behind the API authorizer, and the console beside them. */
const startApi = (
  settings: LocalSettings,
  handlers: Loaded,
  authorizer: LocalHandler,
  deps: Deps,
  onError: OnError,
) => {
  const routes: HttpRoute[] = handlers.flatMap(({ fn, handler }) =>
    fn.triggers.flatMap((t) =>
      t.kind === 'http' ? [{ method: t.method, path: t.path, functionName: fn.name, handler }] : [],
    ),
  );
  return startApiGateway({
    host: settings.host,
    port: settings.httpPort,
    routes,
    authorizer,
    authorizerCacheMs: settings.authorizerCacheSeconds * 1000,
    onError,
    onClientGone: (e) => deps.logger.debug('client closed its request', { error: e as Error }),
    site: { base: '/console', serve: consoleSite() },
  });
};

export type Runtime = Awaited<ReturnType<typeof startRuntime>>;

/**
 * The whole platform on one machine: emulators for DynamoDB, SQS, IoT Core and API Gateway, wired to the
 * handlers the stack deploys, found through the manifest. Stop order keeps accepted work: no new requests,
 * devices disconnected (their lifecycle events queued), consumers drained, then storage closed.
 */
export const startRuntime = async (settings: LocalSettings) => {
  // Stops run last-started first; on a failed start, whatever did start is stopped again.
  const stops: Stops = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  let deps: Deps | undefined;
  const onError = (e: unknown) => deps?.logger.error('local runtime error', { error: e as Error });
  try {
    const { dynamo, sqsServer, sqs, queueUrls, deadLetterUrls } = await startStorage(settings, stops);
    const { broker, iotData, signInThrough } = await startIotCore(settings, stops, onError);
    const byName = new Map<string, LocalHandler>();
    const batch = await startBatchStateMachine(settings, stops, (name) => byName.get(name), onError);

    const config: Config = {
      region: DEFAULT_REGION,
      tableName: TABLE_NAME,
      notificationQueueUrl: queueUrls.notifications,
      topicRoot: settings.topicRoot,
      commandTimeoutMs: settings.commandTimeoutMs,
      ttlMinuteMs: settings.ttlMinuteMs,
      logLevel: settings.logLevel,
      endpoints: {
        dynamodb: dynamo.endpoint,
        sqs: sqsServer.endpoint,
        iotData: iotData.endpoint,
        stepFunctions: batch.stepFunctions.endpoint,
      },
      batchStateMachineArn: batch.arn,
      pushAllowPrivate: settings.pushAllowPrivate,
      pushRouteQueueUrl: queueUrls['push-route'],
      pushDeliveryQueueUrl: queueUrls['push-delivery'],
      pushDeadLetterQueueUrl: deadLetterUrls['push-delivery'],
      pushRetryBaseMs: settings.pushRetryBaseMs,
      pushRetryForMs: settings.pushRetryForMs,
    };
    // One Deps for every handler, so it has every adapter (a Lambda bundle has only its own).
    deps = createDeps(
      config,
      { notifier: sqsNotifier, pushQueue: sqsPushQueue, taskRunner: sfnTaskRunner, publisher: iotDataPublisher },
      localTelemetry(config),
    );
    const handlers = await Promise.all(FUNCTIONS.map(async (fn) => ({ fn, handler: await loadHandler(fn, deps!) })));
    for (const { fn, handler } of handlers) byName.set(fn.name, handler);

    // Stopped after the broker, so devices' disconnects are queued first; what is left waits for the next start.
    stops.push(startQueueConsumers(handlers, sqs, queueUrls, onError));
    signInThrough(byName.get(theOneWith(FUNCTIONS, 'device-authorizer').name)!);
    const rulesDone = startIotRules(settings, broker.broker, byName, sqs, queueUrls, onError);
    stops.push(async () => {
      await broker.stop();
      await rulesDone();
    });
    await endOrphanedSessions(deps, broker.publishLifecycle);
    startSchedules(settings, handlers, stops, onError);
    const authorizer = byName.get(theOneWith(FUNCTIONS, 'api-authorizer').name)!;
    const api = await startApi(settings, handlers, authorizer, deps, onError);
    // Stopped after the API (no new tasks) and before the broker, so running tasks finish with their devices.
    stops.push(batch.stepFunctions.stop);
    stops.push(api.stop);

    // Runs live in memory here, so those a stop or crash cut short ended with it: the batch sweeper (the one
    // function that watches runs) resumes them now, as it does on AWS when an execution ends early.
    for (const { fn, handler } of handlers)
      if (fn.access.watchBatch) await handler({}, lambdaContext(fn.name)).catch(onError);

    const token = bootstrapToken(settings);
    await createApiToken(deps, [settings.bootstrapProject], 'bootstrap', token);

    return {
      httpUrl: api.url,
      mqttUrl: broker.url,
      sqsUrl: sqsServer.endpoint,
      dynamodbUrl: dynamo.endpoint,
      dynamodbMemory: dynamo.memory,
      tableName: TABLE_NAME,
      queueUrls,
      deadLetterUrls,
      project: settings.bootstrapProject,
      token,
      topicRoot: settings.topicRoot,
      deps,
      broker: broker.broker,
      /** Open MQTT connections of a device, counted at the broker. */
      connectionsOf: broker.connectionsOf,
      /** The batch state machine's executions so far, with the history events each would have on AWS. */
      batchExecutions: batch.stepFunctions.executions,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll().catch(() => undefined);
    throw e;
  }
};
