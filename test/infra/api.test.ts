import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/manifest.ts';
import { GATEWAY_RESPONSES } from '../../shared/http/gateway-responses.ts';
import { functionIds, resources, synthStack } from './synth.ts';

const { stack, template } = synthStack();
const apiResources = resources(template, 'AWS::ApiGateway::Resource');
const [authorizerId] = Object.keys(resources(template, 'AWS::ApiGateway::Authorizer'));

/** The path of an API Gateway resource, rebuilt from its PathPart and ParentId chain. */
const pathOf = (resourceId: unknown): string => {
  const ref = (resourceId as { Ref?: string }).Ref;
  const resource = ref ? apiResources[ref] : undefined;
  return resource ? `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}` : '';
};

const httpTriggers = FUNCTIONS.flatMap((def) =>
  def.triggers.flatMap((t) => (t.kind === 'http' ? [{ name: def.name, method: t.method, path: t.path }] : [])),
);

describe('REST API', () => {
  it.each(httpTriggers)('routes $method $path to $name behind the token authorizer, waiting up to 29 s', (route) => {
    const methods = Object.values(resources(template, 'AWS::ApiGateway::Method')).filter(
      (m) => m.Properties.HttpMethod === route.method && pathOf(m.Properties.ResourceId) === route.path,
    );
    expect(methods).toHaveLength(1);
    const props = methods[0]!.Properties;
    expect(props).toMatchObject({
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: authorizerId },
      Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST', TimeoutInMillis: 29000 },
    });
    expect(JSON.stringify(props.Integration.Uri)).toContain(functionIds(stack, route.name).fn);
  });

  it('has no method that is not a manifest route', () => {
    template.resourceCountIs('AWS::ApiGateway::Method', httpTriggers.length);
  });

  it('checks X-Auth-Token or an AK/SK signature with the api-authorizer function, a REQUEST authorizer cached for nothing', () => {
    const props = resources(template, 'AWS::ApiGateway::Authorizer')[authorizerId!]!.Properties;
    expect(props).toMatchObject({ Type: 'REQUEST', AuthorizerResultTtlInSeconds: 0 });
    // No identity source: a request without X-Auth-Token (a signed one) still reaches the authorizer.
    expect(props.IdentitySource ?? '').toBe('');
    expect(JSON.stringify(props.AuthorizerUri)).toContain(functionIds(stack, 'api-authorizer').fn);
  });

  it('writes access logs and error execution logs with metrics, never request bodies', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          MetricsEnabled: true,
          DataTraceEnabled: false,
        }),
      ],
    });
  });
});

describe('gateway responses', () => {
  // API Gateway's type for each shared response, and whether the gateway's own status is kept.
  const expected = [
    ['UNAUTHORIZED', GATEWAY_RESPONSES.unauthorized, '401'],
    ['ACCESS_DENIED', GATEWAY_RESPONSES.accessDenied, '403'],
    ['MISSING_AUTHENTICATION_TOKEN', GATEWAY_RESPONSES.missingAuthenticationToken, '404'],
    ['THROTTLED', GATEWAY_RESPONSES.throttled, '429'],
    ['REQUEST_TOO_LARGE', GATEWAY_RESPONSES.requestTooLarge, '413'],
    ['DEFAULT_4XX', GATEWAY_RESPONSES.default4xx, undefined],
    ['DEFAULT_5XX', GATEWAY_RESPONSES.default5xx, undefined],
  ] as const;

  it('covers every shared gateway response', () => {
    expect(expected).toHaveLength(Object.keys(GATEWAY_RESPONSES).length);
    template.resourceCountIs('AWS::ApiGateway::GatewayResponse', expected.length);
  });

  it.each(expected)('answers %s with the contract error body and X-Request-Id', (type, def, status) => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: type,
      StatusCode: status ?? Match.absent(),
      ResponseParameters: { 'gatewayresponse.header.X-Request-Id': 'context.requestId' },
      ResponseTemplates: {
        'application/json': Match.serializedJson({ error_code: def.code, error_msg: def.message }),
      },
    });
  });
});
