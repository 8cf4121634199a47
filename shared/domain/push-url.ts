import ipaddr from 'ipaddr.js';
import { lookup as dnsLookup } from 'node:dns/promises';

/** IoTDA's limit on an HTTP forwarding `url` (CONTRACT.md §7). */
export const PUSH_URL_MAX_LENGTH = 256;

export type PushUrlLookup = (hostname: string, options: { all: true }) => Promise<{ address: string }[]>;

export interface PushUrlPolicy {
  /** Local runtime: http and loopback/private hosts allowed, so a receiver on the same machine can be used. */
  allowPrivate: boolean;
  /** Resolves a host name to every address it has; node:dns/promises lookup unless a test gives one. */
  lookup?: PushUrlLookup;
}

/**
 * Why an address may not receive pushes, or undefined when it may. Only global unicast passes: that refuses
 * loopback, private (RFC 1918, fc00::/7, so also AWS's metadata fd00:ec2::254), link-local (169.254/16 with
 * the metadata 169.254.169.254, fe80::/10), unspecified, CGNAT 100.64/10, multicast, broadcast, reserved and
 * the IPv6 forms that embed an IPv4 address (6to4, NAT64, Teredo). IPv4-mapped IPv6 is judged as its IPv4.
 */
export const forbiddenAddress = (address: string): string | undefined => {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  const range = ipaddr.process(address).range();
  return range === 'unicast' ? undefined : `${address} is a ${range} address`;
};

const systemLookup: PushUrlLookup = (hostname, options) => dnsLookup(hostname, options);

/** The hostname without IPv6 brackets, as DNS and ipaddr.js take it. */
const bareHost = (hostname: string) => (hostname.startsWith('[') ? hostname.slice(1, -1) : hostname);

/**
 * Why `url` may not receive pushes, or undefined when it may (CONTRACT.md §7): http(s) only and at most
 * PUSH_URL_MAX_LENGTH; unless private hosts are allowed, https only and every address the host resolves to
 * must be public. Checked when an action is saved and again before each send, since DNS can change.
 */
export const checkPushUrl = async (url: string, policy: PushUrlPolicy): Promise<string | undefined> => {
  if (url.length > PUSH_URL_MAX_LENGTH) return `must be at most ${PUSH_URL_MAX_LENGTH} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'must be an http or https URL';
  if (policy.allowPrivate) return undefined;
  if (parsed.protocol !== 'https:') return 'must be an https URL';
  const host = bareHost(parsed.hostname);
  if (ipaddr.isValid(host)) {
    const why = forbiddenAddress(host);
    return why && `host ${why}`;
  }
  let addresses: { address: string }[];
  try {
    addresses = await (policy.lookup ?? systemLookup)(host, { all: true });
  } catch {
    return `host ${host} does not resolve`;
  }
  if (addresses.length === 0) return `host ${host} does not resolve`;
  for (const { address } of addresses) {
    const why = forbiddenAddress(address);
    if (why) return `host ${host} resolves to ${why}`;
  }
  return undefined;
};
