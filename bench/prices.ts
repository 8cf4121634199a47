/**
 * List prices and typical latencies bench/cost.ts multiplies its counts by. Written 2026-12-02 without
 * network access: the research files (shared/research/) hold no AWS price, so each AWS figure is the
 * us-east-1 list price as last seen on its page (2025), marked UNCONFIRMED until someone checks the page;
 * the metering rules quoted are from stored copies of the pages named. Change a figure here and the
 * README's table with it.
 */

export interface Price {
  usd: number;
  per: string;
  source: string;
  asOf: string;
  confirmed: boolean;
}

const LAST_SEEN = 'as of 2025 (last seen; UNCONFIRMED, no network on 2026-12-02)';
const p = (usd: number, per: string, source: string, confirmed = false, asOf = LAST_SEEN): Price => ({
  usd,
  per,
  source,
  asOf,
  confirmed,
});

export const AWS = {
  apiGatewayRest: p(
    3.5,
    'million REST API requests (first 333 M a month)',
    'https://aws.amazon.com/api-gateway/pricing/',
  ),
  lambdaRequests: p(0.2, 'million invocations', 'https://aws.amazon.com/lambda/pricing/'),
  lambdaArmGbSecond: p(
    0.0000133334,
    'GB-second, arm64 (first 7.5 billion GB-s a month)',
    'https://aws.amazon.com/lambda/pricing/',
  ),
  dynamoRead: p(
    0.125,
    'million read request units, on-demand (after the November 2024 price cut)',
    'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  ),
  dynamoWrite: p(
    0.625,
    'million write request units, on-demand (after the November 2024 price cut)',
    'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  ),
  iotMessages: p(
    1.0,
    'million messages of up to 5 KB (first billion a month)',
    'https://aws.amazon.com/iot-core/pricing/',
  ),
  iotConnectionMinutes: p(0.08, 'million connection minutes', 'https://aws.amazon.com/iot-core/pricing/'),
  iotRulesTriggered: p(0.15, 'million rules triggered', 'https://aws.amazon.com/iot-core/pricing/'),
  iotActions: p(0.15, 'million actions executed', 'https://aws.amazon.com/iot-core/pricing/'),
  sqsRequests: p(
    0.4,
    'million requests, standard queue (each 64 KB chunk one request)',
    'https://aws.amazon.com/sqs/pricing/',
  ),
  sfnTransitions: p(
    25,
    'million state transitions, Standard workflows',
    'https://aws.amazon.com/step-functions/pricing/',
  ),
  logsIngestion: p(0.5, 'GB ingested, CloudWatch Logs standard class', 'https://aws.amazon.com/cloudwatch/pricing/'),
} satisfies Record<string, Price>;

/** The deployed functions' memory (infra/constructs/downlink-function.ts, memorySize: 256). */
export const LAMBDA_MEMORY_GB = 256 / 1024;

/**
 * IoT Core metering (https://aws.amazon.com/iot-core/pricing/additional-details/, stored copy read
 * 2026-12-02): PUBLISH received from a device and PUBLISH sent by the service are metered on payload and
 * topic size, a PUBACK received from a device (MQTT 3.1.1) as one 5 KB message, CONNECT and SUBSCRIBE as
 * messages, an HTTP publish on its body's 5 KB units; PINGREQ/PINGRESP, DISCONNECT, CONNACK, SUBACK and the
 * service's PUBACK are free. Whether lifecycle events ($aws/events/...) are metered is not on that page:
 * counted as messages here, UNCONFIRMED.
 */
export const IOT_METERING_SOURCE = 'https://aws.amazon.com/iot-core/pricing/additional-details/';

/** CloudWatch Logs lines the stack writes besides the functions' own (INFO, shared/config.ts default). */
export const LOG_LINES = {
  // START, END and REPORT lines of every invocation, about 75 + 50 + 160 bytes (text format); estimate.
  lambdaPlatformBytes: 285,
  // One access log line per API request (jsonWithStandardFields, infra/constructs/api.ts); estimate.
  apiAccessBytes: 300,
  // API Gateway execution logs at ERROR: nothing for a successful request.
};

/** The same work priced on the platforms a user might compare with (shared/research/peers.md has no prices). */
export const PEERS = {
  iotdaBasic: {
    // 3.6 CNY per million messages, first million a month free (Huawei Cloud IoTDA basic edition billing,
    // huaweicloud.com product page, stored copy read 2026-12-02); at 7.1 CNY/USD. What counts as a message
    // (a command and its response: 2 assumed; connections: free assumed) UNCONFIRMED.
    usdPerMillionMessages: 3.6 / 7.1,
    source: 'https://support.huaweicloud.com/intl/en-us/price-iothub/ (basic edition: 3.6 CNY per million messages)',
    confirmed: false,
  },
  azureS1: {
    // S1: one unit a month allows 400,000 messages a day, metered in 4 KB chunks; the unit's USD price,
    // 25 USD a month, is as last seen (UNCONFIRMED). Per million messages at full use of the unit.
    usdPerUnitMonth: 25,
    messagesPerUnitDay: 400_000,
    source:
      'https://azure.microsoft.com/pricing/details/iot-hub/ (units and 4 KB metering); ' +
      'https://learn.microsoft.com/azure/iot-hub/iot-hub-devguide-pricing ' +
      '(a direct method: request and non-empty response each charged)',
    confirmed: false,
  },
  awsDeviceManagementCommands: {
    // Not found offline: the IoT Device Management pricing page's commands line was not in any stored copy.
    usdPerMillionCommands: undefined as number | undefined,
    source: 'https://aws.amazon.com/iot-device-management/pricing/',
    confirmed: false,
  },
};

/**
 * Typical in-region latencies per call, for the modelled AWS latency (not measured here). Each is a
 * round figure for a warm path inside one region; sources named, all UNCONFIRMED as exact figures.
 */
export const LATENCY_MS = {
  // API Gateway REST's own overhead (its Latency minus IntegrationLatency), commonly 5–15 ms.
  apiGateway: 10,
  // One warm Lambda invoke by API Gateway, an authorizer, a rule or a state machine, excluding the handler's work.
  lambdaInvoke: 5,
  // The handler's own CPU per invocation on 256 MB arm64 (JSON, validation, SDK marshalling); estimate.
  lambdaCompute: 3,
  // DynamoDB: "single-digit millisecond" (https://aws.amazon.com/dynamodb/): reads 4, writes 6, batches 8.
  dynamoRead: 4,
  dynamoWrite: 6,
  dynamoBatch: 8,
  dynamoQuery: 6,
  // iot-data Publish over HTTPS, to the broker's accept.
  iotPublish: 15,
  // The broker delivering to a connected device in-region and its PUBLISH back (device network excluded).
  iotDelivery: 10,
  // An IoT rule's Lambda action: the rules engine invokes asynchronously; tens of ms.
  ruleToLambda: 30,
  sqsSend: 10,
  sfnStart: 20,
};
