import { Duration, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseType,
  RestApi,
  RequestAuthorizer,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_SETTINGS, type Trigger } from '../../functions/manifest.ts';
import { GATEWAY_RESPONSES, type GatewayResponseName } from '../../shared/http/gateway-responses.ts';

export type HttpTrigger = Extract<Trigger, { kind: 'http' }>;

export interface ApiProps {
  authorizer: IFunction;
  routes: { trigger: HttpTrigger; handler: IFunction }[];
}

/**
 * API Gateway's type for each shared gateway response. The two defaults keep the status the gateway chose
 * (a 504 timeout stays 504) and only give the body the contract's shape.
 */
const RESPONSE_TYPES: Record<GatewayResponseName, { type: ResponseType; keepStatus?: true }> = {
  unauthorized: { type: ResponseType.UNAUTHORIZED },
  accessDenied: { type: ResponseType.ACCESS_DENIED },
  missingAuthenticationToken: { type: ResponseType.MISSING_AUTHENTICATION_TOKEN },
  default4xx: { type: ResponseType.DEFAULT_4XX, keepStatus: true },
  default5xx: { type: ResponseType.DEFAULT_5XX, keepStatus: true },
  throttled: { type: ResponseType.THROTTLED },
  requestTooLarge: { type: ResponseType.REQUEST_TOO_LARGE },
};

/** The application REST API (CONTRACT.md §1): one Lambda proxy method per manifest http trigger. */
export class DownlinkApi extends Construct {
  readonly restApi: RestApi;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH });
    this.restApi = new RestApi(this, 'RestApi', {
      description: 'IoTDA-compatible downlink API',
      endpointTypes: [EndpointType.REGIONAL],
      // API Gateway needs an account-wide role to write execution logs.
      cloudWatchRole: true,
      deployOptions: {
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: MethodLoggingLevel.ERROR,
        // Bodies carry device secrets (add device), so they are never logged.
        dataTraceEnabled: false,
        metricsEnabled: true,
      },
    });

    // A REQUEST authorizer: it reads X-Auth-Token, or an AK/SK signature's headers (CONTRACT.md §6). Not
    // cached (API_SETTINGS), so no identity source is required and nothing is kept per signature.
    const authorizer = new RequestAuthorizer(this, 'RequestAuthorizer', {
      handler: props.authorizer,
      identitySources: [],
      resultsCacheTtl: Duration.seconds(API_SETTINGS.authorizerCacheSeconds),
    });

    for (const { trigger, handler } of props.routes) {
      this.restApi.root.resourceForPath(trigger.path).addMethod(
        trigger.method,
        // 29 s covers the 20 s synchronous command wait (DESIGN.md "Flows").
        new LambdaIntegration(handler, {
          proxy: true,
          timeout: Duration.seconds(API_SETTINGS.integrationTimeoutSeconds),
          allowTestInvoke: false,
        }),
        { authorizer, authorizationType: AuthorizationType.CUSTOM },
      );
    }

    for (const name of Object.keys(GATEWAY_RESPONSES) as GatewayResponseName[]) {
      const { status, code, message } = GATEWAY_RESPONSES[name];
      const { type, keepStatus } = RESPONSE_TYPES[name];
      this.restApi.addGatewayResponse(name, {
        type,
        ...(keepStatus ? {} : { statusCode: String(status) }),
        // CONTRACT.md §1: every response carries X-Request-Id.
        responseHeaders: { 'X-Request-Id': 'context.requestId' },
        templates: { 'application/json': JSON.stringify({ error_code: code, error_msg: message }) },
      });
    }

    Validations.of(this).acknowledge({
      id:
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/' +
        'AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The account-wide role API Gateway uses for execution logs; AWS maintains this policy for exactly that use.',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'Requests are validated in the Lambdas, because error codes and messages must match IoTDA (CONTRACT.md §1).',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'IoTDA clients authenticate with X-Auth-Token or an AK/SK signature, ' +
        'checked by a Lambda authorizer by design (CONTRACT.md §1, §6).',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason: 'A WAF web ACL is left to the operator, who knows the traffic to allow.',
    });
  }
}
