/**
 * The one place for region, account and ARN literals. On AWS the SDK and the Lambda environment name the
 * region; these are the fallback for tools run without AWS_REGION, and the region and account the local
 * runtime's emulators stand in for.
 */
export const DEFAULT_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

/** An ARN in the local runtime's partition, region and account. */
export const localArn = (service: string, resource: string): string =>
  `arn:aws:${service}:${DEFAULT_REGION}:${LOCAL_ACCOUNT}:${resource}`;
