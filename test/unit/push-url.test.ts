import { describe, expect, it } from 'vitest';
import { settingsFromEnv } from '../../local/settings.ts';
import { configFromEnv } from '../../shared/config.ts';
import { checkPushUrl, PUSH_URL_MAX_LENGTH, type PushUrlLookup } from '../../shared/domain/push-url.ts';

/** A resolver that answers from a table, so no test depends on the network's DNS. */
const resolver =
  (table: Record<string, string[]>): PushUrlLookup =>
  async (host) => {
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address }));
  };

const lookup = resolver({
  'push.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'inside.example.com': ['93.184.215.14', '10.1.2.3'],
  'metadata.example.com': ['169.254.169.254'],
  'mapped.example.com': ['::ffff:127.0.0.1'],
  'ec2-v6.example.com': ['fd00:ec2::254'],
  'nothing.example.com': [],
});
const onAws = { allowPrivate: false, lookup };
const locally = { allowPrivate: true, lookup };

describe('push URL check (CONTRACT.md §7)', () => {
  it.each([
    'https://push.example.com/iot',
    'https://push.example.com:8443/iot?x=1',
    'https://93.184.215.14/iot',
    'https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/iot',
  ])('allows %s on AWS', async (url) => {
    expect(await checkPushUrl(url, onAws)).toBeUndefined();
  });

  it.each([
    ['http://push.example.com/iot', 'https'],
    ['ftp://push.example.com/iot', 'http or https'],
    ['not a url', 'absolute'],
    [`https://push.example.com/${'a'.repeat(PUSH_URL_MAX_LENGTH)}`, `at most ${PUSH_URL_MAX_LENGTH}`],
    ['https://127.0.0.1/', 'loopback'],
    ['https://127.1/', 'loopback'],
    ['https://2130706433/', 'loopback'],
    ['https://0x7f000001/', 'loopback'],
    ['https://[::1]/', 'loopback'],
    ['https://[::ffff:127.0.0.1]/', 'loopback'],
    ['https://[::ffff:a9fe:a9fe]/', 'linkLocal'],
    ['https://10.0.0.1/', 'private'],
    ['https://172.16.5.4/', 'private'],
    ['https://192.168.1.1/', 'private'],
    ['https://[fc00::1]/', 'uniqueLocal'],
    ['https://[fd00:ec2::254]/', 'uniqueLocal'],
    ['https://169.254.169.254/latest/meta-data/', 'linkLocal'],
    ['https://169.254.1.1/', 'linkLocal'],
    ['https://[fe80::1]/', 'linkLocal'],
    ['https://0.0.0.0/', 'unspecified'],
    ['https://[::]/', 'unspecified'],
    ['https://100.64.0.1/', 'carrierGradeNat'],
    ['https://[64:ff9b::a00:1]/', 'rfc6052'],
    ['https://224.0.0.1/', 'multicast'],
    ['https://inside.example.com/', '10.1.2.3 is a private address'],
    ['https://metadata.example.com/', 'linkLocal'],
    ['https://mapped.example.com/', 'loopback'],
    ['https://ec2-v6.example.com/', 'uniqueLocal'],
    ['https://missing.example.com/', 'does not resolve'],
    ['https://nothing.example.com/', 'does not resolve'],
  ])('refuses %s on AWS', async (url, why) => {
    expect(await checkPushUrl(url, onAws)).toContain(why);
  });

  it.each(['http://127.0.0.1:9000/push', 'http://localhost:9000/', 'https://10.0.0.1/', 'http://[::1]:9000/'])(
    'allows %s locally',
    async (url) => {
      expect(await checkPushUrl(url, locally)).toBeUndefined();
    },
  );

  it.each([
    ['ftp://127.0.0.1/', 'http or https'],
    ['file:///etc/passwd', 'http or https'],
    [`http://127.0.0.1/${'a'.repeat(PUSH_URL_MAX_LENGTH)}`, 'at most'],
  ])('refuses %s locally too', async (url, why) => {
    expect(await checkPushUrl(url, locally)).toContain(why);
  });

  it('resolves names with the system resolver when none is given', async () => {
    expect(await checkPushUrl('https://localhost/', { allowPrivate: false })).toContain('loopback');
  });
});

describe('DOWNLINK_PUSH_ALLOW_PRIVATE', () => {
  const lambda = (value?: string) =>
    configFromEnv({ DOWNLINK_TABLE: 't', ...(value === undefined ? {} : { DOWNLINK_PUSH_ALLOW_PRIVATE: value }) });
  const local = (value?: string) => settingsFromEnv(value === undefined ? {} : { DOWNLINK_PUSH_ALLOW_PRIVATE: value });

  it('is off for Lambda functions and on for the local runtime unless set', () => {
    expect(lambda().pushAllowPrivate).toBe(false);
    expect(local().pushAllowPrivate).toBe(true);
    expect(lambda('true').pushAllowPrivate).toBe(true);
    expect(local('false').pushAllowPrivate).toBe(false);
  });

  it.each(['yes', '1', 'FALSE', ''])('refuses %j rather than guessing', (value) => {
    expect(() => lambda(value)).toThrow();
    expect(() => local(value)).toThrow();
  });
});
