import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { MockIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { afterAll, describe, expect, it } from 'vitest';
import type { DownlinkApi } from '../../infra/constructs/api.ts';
import { ConsoleSite, VIEWER_REQUEST_CODE } from '../../infra/constructs/console.ts';
import { logicalId, resources, synthStack } from './synth.ts';

const { stack, template } = synthStack();
const site = stack.node.findChild('Console') as ConsoleSite;
const restApi = (stack.node.findChild('Api') as DownlinkApi).restApi;
const ids = {
  files: logicalId(site.bucket),
  distribution: logicalId(site.distribution),
  restApi: logicalId(restApi),
};
const distribution = resources(template, 'AWS::CloudFront::Distribution')[ids.distribution]!.Properties
  .DistributionConfig;
const originOf = (behavior: { TargetOriginId: string }) =>
  distribution.Origins.find((o: { Id: string }) => o.Id === behavior.TargetOriginId);
const apiBehavior = distribution.CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === '/v5/*');

// AWS managed policies, by their fixed ids.
const CACHING_OPTIMIZED = '658327ea-f89d-4fab-a63d-7e88639e58f6';
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

describe('console bucket', () => {
  const bucket = resources(template, 'AWS::S3::Bucket')[ids.files]!.Properties;
  const statements = Object.values(resources(template, 'AWS::S3::BucketPolicy')).find(
    (p) => p.Properties.Bucket.Ref === ids.files,
  )!.Properties.PolicyDocument.Statement as Record<string, any>[];

  it('is private, encrypted, logged and no website', () => {
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(
      bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm,
    ).toBe('AES256');
    expect(bucket.WebsiteConfiguration).toBeUndefined();
    expect(bucket.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logicalId(site.node.findChild('Logs')) },
      LogFilePrefix: 's3/',
    });
  });

  it('refuses plain HTTP and lets only this distribution read, through Origin Access Control', () => {
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Principal: { AWS: '*' },
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    const reads = statements.filter((s) => s.Principal?.Service === 'cloudfront.amazonaws.com');
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ Effect: 'Allow', Action: 's3:GetObject' });
    expect(JSON.stringify(reads[0]!.Condition.StringEquals['AWS:SourceArn'])).toContain(
      `{"Ref":"${ids.distribution}"}`,
    );
    // Nobody else is allowed anything but CDK's own object cleaner (on stack deletion).
    const others = statements.filter((s) => s.Effect === 'Allow' && s !== reads[0]);
    expect(others.map((s) => JSON.stringify(s.Principal))).toEqual([expect.stringContaining('AutoDeleteObjects')]);
  });

  it('is reached with an OAC signing every request, not a legacy OAI', () => {
    template.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
    const [oacId, oac] = Object.entries(resources(template, 'AWS::CloudFront::OriginAccessControl'))[0]!;
    expect(oac.Properties.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    expect(originOf(distribution.DefaultCacheBehavior)).toMatchObject({
      DomainName: { 'Fn::GetAtt': [ids.files, 'RegionalDomainName'] },
      OriginAccessControlId: { 'Fn::GetAtt': [oacId, 'Id'] },
      S3OriginConfig: { OriginAccessIdentity: '' },
    });
  });
});

describe('console distribution', () => {
  it('serves the bucket by default, cached, over HTTPS, through the paths function', () => {
    const [fnId, fn] = Object.entries(resources(template, 'AWS::CloudFront::Function'))[0]!;
    expect(fn.Properties.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    expect(fn.Properties.FunctionCode).toBe(readFileSync(VIEWER_REQUEST_CODE, 'utf8'));
    expect(distribution.DefaultCacheBehavior).toMatchObject({
      AllowedMethods: ['GET', 'HEAD'],
      CachePolicyId: CACHING_OPTIMIZED,
      ViewerProtocolPolicy: 'redirect-to-https',
      FunctionAssociations: [{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [fnId, 'FunctionARN'] } }],
    });
    expect(distribution.DefaultCacheBehavior.OriginRequestPolicyId).toBeUndefined();
  });

  it('passes /v5/* to the API stage uncached, every method, every viewer header but Host, HTTPS only', () => {
    expect(distribution.CacheBehaviors).toHaveLength(1);
    expect(apiBehavior).toMatchObject({
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      CachePolicyId: CACHING_DISABLED,
      OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
      ViewerProtocolPolicy: 'https-only',
    });
    expect(apiBehavior.FunctionAssociations).toBeUndefined();
  });

  it('reaches the API at its execute-api host with the stage as origin path, so /v5/iot/... is the resource path', () => {
    const origin = originOf(apiBehavior);
    expect(origin.CustomOriginConfig).toEqual({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
    const stageId = logicalId(restApi.deploymentStage);
    // The URL https://{api}.execute-api.{region}.{suffix}/{stage}/ split on '/': host is part 2, stage part 3.
    const url = {
      'Fn::Join': [
        '',
        [
          'https://',
          { Ref: ids.restApi },
          '.execute-api.',
          { Ref: 'AWS::Region' },
          '.',
          { Ref: 'AWS::URLSuffix' },
          '/',
          { Ref: stageId },
          '/',
        ],
      ],
    };
    expect(origin.DomainName).toEqual({ 'Fn::Select': [2, { 'Fn::Split': ['/', url] }] });
    expect(origin.OriginPath).toEqual({ 'Fn::Join': ['', ['/', { 'Fn::Select': [3, { 'Fn::Split': ['/', url] }] }]] });
    // ...because the API's resources start at its root with v5 (no prefix of their own to strip).
    const v5 = Object.values(resources(template, 'AWS::ApiGateway::Resource')).filter(
      (r) => r.Properties.PathPart === 'v5',
    );
    expect(v5.map((r) => r.Properties.ParentId)).toEqual([{ 'Fn::GetAtt': [ids.restApi, 'RootResourceId'] }]);
  });

  it('writes its access logs to the log bucket', () => {
    expect(distribution.Logging).toEqual({
      Bucket: { 'Fn::GetAtt': [logicalId(site.node.findChild('Logs')), 'RegionalDomainName'] },
      Prefix: 'cloudfront/',
    });
  });

  it('gives the console URL as an output', () => {
    template.hasOutput('ConsoleUrl', {
      Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [ids.distribution, 'DomainName'] }, '/console/']] },
    });
  });
});

describe('console deployment', () => {
  const deployments = resources(template, 'Custom::CDKBucketDeployment');
  const byId = (id: string) => {
    const cr = logicalId(site.node.findChild(id).node.findChild('CustomResource'));
    return [cr, deployments[cr]!] as const;
  };

  it('puts the hashed assets under console/assets/ cached for a year, kept across deploys', () => {
    const [, assets] = byId('DeployAssets');
    expect(assets.Properties).toMatchObject({
      DestinationBucketName: { Ref: ids.files },
      DestinationBucketKeyPrefix: 'console/',
      Exclude: ['*'],
      Include: ['assets/*'],
      Prune: false,
      SystemMetadata: { 'cache-control': 'public, max-age=31536000, immutable' },
    });
  });

  it('puts the rest (index.html) under console/ revalidated, after the assets it names', () => {
    const [assetsId] = byId('DeployAssets');
    const [pagesId, pages] = byId('DeployPages');
    expect(pages.Properties).toMatchObject({
      DestinationBucketName: { Ref: ids.files },
      DestinationBucketKeyPrefix: 'console/',
      Exclude: ['assets/*'],
      Prune: true,
      SystemMetadata: { 'cache-control': 'no-cache' },
    });
    expect(pages.Properties.Include).toBeUndefined();
    expect(template.toJSON().Resources[pagesId].DependsOn).toContain(assetsId);
  });
});

describe('console build in the deployment asset', () => {
  // A small stack with bundling on (the full stack would bundle every function): the asset is the real build.
  const outdir = mkdtempSync(path.join(tmpdir(), 'downlink-console-asset-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('holds index.html and the assets it references, at the keys the browser asks for under /console/', () => {
    const app = new App({ outdir });
    const small = new Stack(app, 'ConsoleOnly');
    const api = new RestApi(small, 'Api');
    api.root.addResource('v5').addMethod('GET', new MockIntegration());
    new ConsoleSite(small, 'Console', { api });
    const assembly = app.synth();
    // The zip both deployments copy from, as the asset folder the CLI zips and uploads.
    const keys = Object.values(
      assembly.getStackByName('ConsoleOnly').template.Resources as ReturnType<typeof resources>,
    )
      .filter((r) => r.Type === 'Custom::CDKBucketDeployment')
      .flatMap((r) => r.Properties.SourceObjectKeys as string[]);
    expect(new Set(keys).size).toBe(1);
    const dir = path.join(assembly.directory, `asset.${keys[0]!.replace(/\.zip$/, '')}`);
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
    expect(files).not.toContain('.built');
    const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
    const referenced = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(referenced.length).toBeGreaterThan(0);
    // Each reference is /console/{key below the prefix}, and the key is in the build.
    for (const url of referenced) {
      expect(url).toMatch(/^\/console\/assets\//);
      expect(files).toContain(url.slice('/console/'.length));
    }
  });
});
