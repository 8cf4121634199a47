import { cpSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type CfnElement, Duration, DockerImage, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  Function as CloudFrontFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  OriginRequestPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { RestApiOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { CONSOLE_DIST, ensureConsoleBuilt } from '../../local/console-site.ts';

/** The CloudFront Function of the console's paths, a plain script tested on its own. */
export const VIEWER_REQUEST_CODE = join(import.meta.dirname, '..', 'console-viewer-request.js');

/** Where the build's files go in the bucket: the page asks for /console/..., and the key is the path. */
const PREFIX = 'console/';

export interface ConsoleSiteProps {
  /** The REST API the console calls on its own origin, under /v5/. */
  api: RestApi;
}

/**
 * The web console on AWS (CONTRACT §8): its static build in a private bucket and the REST API, both behind
 * one CloudFront distribution, so the console calls /v5/... on its own origin as it does locally.
 */
export class ConsoleSite extends Construct {
  readonly distribution: Distribution;
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);

    // Access logs of the distribution and of the bucket. CloudFront's standard logs are written with ACLs,
    // so this bucket keeps them enabled (object writer); nothing else is ever stored here.
    const logs = new Bucket(this, 'Logs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(90) }],
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'The access log bucket itself: logging its own writes would log forever.',
    });

    // Only CloudFront reads it (Origin Access Control); no website hosting, no public access.
    this.bucket = new Bucket(this, 'Files', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 's3/',
      // Nothing in it but the build, which every deploy puts back: a stack deleted leaves no bucket behind.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    const paths = new CloudFrontFunction(this, 'Paths', {
      code: FunctionCode.fromFile({ filePath: VIEWER_REQUEST_CODE }),
      runtime: FunctionRuntime.JS_2_0,
      comment: 'Console paths: /console/ is index.html; / and /console go to /console/',
    });

    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Downlink console and API',
      // The bucket answers whatever is not the API: /console/... (and / or /console, redirected by the function).
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        functionAssociations: [{ function: paths, eventType: FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: {
        // RestApiOrigin's origin path is the stage (/prod), so /v5/iot/... reaches the API's resource
        // /v5/iot/{project_id}/... unchanged. Nothing cached; every viewer header (X-Auth-Token, X-Project-Id,
        // Authorization, X-Sdk-Date, Content-Type...) and the query pass, except Host, which must be the API's own.
        '/v5/*': {
          origin: new RestApiOrigin(props.api),
          // Not a redirect: a client following one would turn a POST into a GET.
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          cachePolicy: CachePolicy.CACHING_DISABLED,
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        },
      },
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
    });

    // The build, made (or found up to date) when the stack is synthesized for a deploy. Tests that skip
    // bundling (aws:cdk:bundling-stacks) skip it too and stay fast.
    const build = Source.asset(join(import.meta.dirname, '..', '..', 'console'), {
      exclude: ['dist*'],
      bundling: {
        // Required by the type; never pulled, since the local build either succeeds or throws.
        image: DockerImage.fromRegistry('scratch'),
        local: {
          tryBundle(outputDir) {
            ensureConsoleBuilt((line) => process.stderr.write(`${line}\n`));
            cpSync(CONSOLE_DIST, outputDir, { recursive: true, filter: (src) => basename(src) !== '.built' });
            return true;
          },
        },
      },
    });
    // Hashed names never change content: cached for a year. They are kept across deploys (no prune), so a
    // tab opened on the previous build still finds its files.
    const assets = new BucketDeployment(this, 'DeployAssets', {
      sources: [build],
      destinationBucket: this.bucket,
      destinationKeyPrefix: PREFIX,
      exclude: ['*'],
      include: ['assets/*'],
      prune: false,
      cacheControl: [CacheControl.fromString('public, max-age=31536000, immutable')],
      outputObjectKeys: false,
    });
    // Everything else (index.html) is revalidated on every load, and goes up only after the assets it names.
    const pages = new BucketDeployment(this, 'DeployPages', {
      sources: [build],
      destinationBucket: this.bucket,
      destinationKeyPrefix: PREFIX,
      exclude: ['assets/*'],
      cacheControl: [CacheControl.noCache()],
      outputObjectKeys: false,
    });
    pages.node.addDependency(assets);

    this.acknowledgeDefaultDomain();
    this.acknowledgeDeploymentProvider();
  }

  /** The Lambda CDK shares between all BucketDeployments of the stack; it runs only during a deploy. */
  private acknowledgeDeploymentProvider() {
    const stack = Stack.of(this);
    const provider = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!provider) throw new Error('BucketDeployment no longer creates its provider where expected');
    const files = stack.resolve((this.bucket.node.defaultChild as CfnElement).logicalId) as string;
    const acknowledge = (id: string, reason: string) =>
      Validations.of(provider).acknowledge({ id: `AwsSolutions-${id}`, reason });
    acknowledge(
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'CDK creates the BucketDeployment provider and its role; it runs only during deployment.',
    );
    const copying =
      'CDK grants the BucketDeployment provider read of the CDK asset bucket and write of the console bucket; ' +
      'it runs only during deployment.';
    for (const finding of [
      'Action::s3:GetObject*',
      'Action::s3:GetBucket*',
      'Action::s3:List*',
      'Action::s3:DeleteObject*',
      'Action::s3:Abort*',
      'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
      `Resource::<${files}.Arn>/*`,
    ])
      acknowledge(`IAM5[${finding}]`, copying);
    acknowledge(
      'L1',
      "CDK picks the BucketDeployment provider's runtime (Python, with the AWS CLI layer); " +
        'it runs only during deployment.',
    );
  }

  private acknowledgeDefaultDomain() {
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR4',
      reason:
        'The distribution uses its default *.cloudfront.net certificate, whose minimum TLS version cannot be set; ' +
        "a custom domain and certificate are the operator's.",
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: "Devices and operators may be anywhere; which countries to refuse is the operator's choice.",
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR2',
      reason: 'A WAF web ACL is left to the operator, who knows the traffic to allow (as for the REST API).',
    });
  }
}
