import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { VIEWER_REQUEST_CODE } from '../../infra/constructs/console.ts';

/**
 * The CloudFront Function as CloudFront runs it: the file's script, alone, its top-level `handler` called
 * with a viewer-request event. A fresh context without Node's globals catches a require or a process.
 */
type Request = {
  method: string;
  uri: string;
  querystring: Record<string, unknown>;
  headers: Record<string, { value: string }>;
};
type Response = { statusCode: number; statusDescription: string; headers: Record<string, { value: string }> };
const handler = runInNewContext(`${readFileSync(VIEWER_REQUEST_CODE, 'utf8')}\nhandler`, {}) as (
  event: unknown,
) => Request | Response;

const viewerRequest = (uri: string) =>
  handler({
    version: '1.0',
    context: { eventType: 'viewer-request', distributionDomainName: 'd111111abcdef8.cloudfront.net' },
    viewer: { ip: '198.51.100.7' },
    request: {
      method: 'GET',
      uri,
      querystring: {},
      headers: { host: { value: 'd111111abcdef8.cloudfront.net' } },
      cookies: {},
    },
  });

describe('console viewer-request function', () => {
  it('serves the directory /console/ from its index.html key', () => {
    expect(viewerRequest('/console/')).toMatchObject({ uri: '/console/index.html', method: 'GET' });
  });

  it('moves /console to /console/ for good, as the local runtime does', () => {
    expect(viewerRequest('/console')).toEqual({
      statusCode: 301,
      statusDescription: 'Moved Permanently',
      headers: { location: { value: '/console/' } },
    });
  });

  it('sends the root to the console with a temporary redirect', () => {
    expect(viewerRequest('/')).toEqual({
      statusCode: 302,
      statusDescription: 'Found',
      headers: { location: { value: '/console/' } },
    });
  });

  it.each([
    '/console/index.html',
    '/console/assets/index-D6bnZ2uB.js',
    '/console/assets/index-D6bnZ2uB.css',
    '/favicon.ico',
    '/console/devices',
    '/consoles/',
  ])('leaves %s as it is (a file of the build, or an S3 refusal)', (uri) => {
    expect(viewerRequest(uri)).toMatchObject({ uri, headers: { host: { value: 'd111111abcdef8.cloudfront.net' } } });
  });
});
