import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * AK/SK signatures as Huawei's SDK core signs them (CONTRACT.md §6): `SDK-HMAC-SHA256`, and the derived
 * `V11-HMAC-SHA256` whose key is HKDF-SHA256(SK, salt AK, info scope). Pure: the caller supplies the
 * request as it arrived, the key's SK and the clock.
 */
export type SignatureAlgorithm = 'SDK-HMAC-SHA256' | 'V11-HMAC-SHA256';

export interface ParsedAuthorization {
  algorithm: SignatureAlgorithm;
  accessKey: string;
  /** V11 only: `yyyyMMdd/{region}/{service}`. */
  scope?: string;
  signedHeaders: string[];
  signature: string;
}

/** The request as the server received it: decoded path segments and query values, headers by lowercase name. */
export interface SignedRequestParts {
  method: string;
  /** The path as the client sent it (its percent-encoding kept): the core signs each segment encoded again. */
  path: string;
  /** Query values, decoded; a repeated key has several. */
  query: Record<string, string[]>;
  headers: Record<string, string>;
  body: string;
}

const SIGNED = /^(SDK-HMAC-SHA256|V11-HMAC-SHA256) (.+)$/;
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

/** Undefined when the header is not a signature of either algorithm (or is malformed). */
export const parseAuthorization = (header: string | undefined): ParsedAuthorization | undefined => {
  const m = header ? SIGNED.exec(header.trim()) : null;
  if (!m) return undefined;
  const algorithm = m[1] as SignatureAlgorithm;
  const fields = Object.fromEntries(
    m[2]!.split(',').map((part) => {
      const eq = part.indexOf('=');
      return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
    }),
  );
  const { SignedHeaders: signedHeaders, Signature: signature } = fields;
  if (!signedHeaders || !signature || !/^[0-9a-f]{64}$/.test(signature)) return undefined;
  let accessKey: string | undefined;
  let scope: string | undefined;
  if (algorithm === 'SDK-HMAC-SHA256') accessKey = fields.Access;
  else {
    const slash = (fields.Credential ?? '').indexOf('/');
    if (slash > 0) {
      accessKey = fields.Credential!.slice(0, slash);
      scope = fields.Credential!.slice(slash + 1);
    }
  }
  if (!accessKey) return undefined;
  return { algorithm, accessKey, scope, signedHeaders: signedHeaders.split(';'), signature };
};

/** `X-Sdk-Date` (`yyyyMMddTHHmmssZ`) as epoch ms, or undefined when malformed. */
export const parseSdkDate = (value: string | undefined): number | undefined => {
  const m = value ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value) : null;
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isNaN(ms) ? undefined : ms;
};

/** What the authorizer can check without the body or the SK: the shape and a fresh date. */
export const checkFreshness = (headers: Record<string, string>, now: number): boolean => {
  const date = parseSdkDate(headers['x-sdk-date']);
  return date !== undefined && Math.abs(now - date) <= MAX_CLOCK_SKEW_MS;
};

/** RFC 3986 unreserved characters stay, every other UTF-8 byte is %XX: the core's encoding of path segments and query. */
export const sdkEncode = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export const canonicalRequest = (req: SignedRequestParts, signedHeaders: string[], payloadHash: string): string => {
  let uri = req.path.split('/').map(sdkEncode).join('/');
  if (!uri.endsWith('/')) uri += '/';
  const query = Object.keys(req.query)
    .sort()
    .flatMap((k) => [...req.query[k]!].sort().map((v) => `${sdkEncode(k)}=${sdkEncode(v)}`))
    .join('&');
  const headers = signedHeaders.map((h) => `${h}:${req.headers[h] ?? ''}\n`).join('');
  return [req.method, uri, query, headers, signedHeaders.join(';'), payloadHash].join('\n');
};

const hmacHex = (key: string, text: string): string => createHmac('sha256', key).update(text).digest('hex');

export const signingKey = (auth: ParsedAuthorization, secretKey: string): string =>
  auth.algorithm === 'SDK-HMAC-SHA256'
    ? secretKey
    : Buffer.from(hkdfSync('sha256', secretKey, auth.accessKey, auth.scope ?? '', 32)).toString('hex');

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** The whole signature, body included (unless the client declared `UNSIGNED-PAYLOAD` in a signed header). */
export const verifySignature = (
  auth: ParsedAuthorization,
  req: SignedRequestParts,
  secretKey: string,
  now: number,
): SignatureCheck => {
  const sdkDate = req.headers['x-sdk-date'];
  if (!checkFreshness(req.headers, now)) return { ok: false, reason: 'X-Sdk-Date missing or more than 15 minutes off' };
  if (!auth.signedHeaders.includes('x-sdk-date')) return { ok: false, reason: 'X-Sdk-Date is not signed' };
  if (auth.algorithm === 'V11-HMAC-SHA256' && auth.scope?.split('/')[0] !== sdkDate!.slice(0, 8))
    return { ok: false, reason: 'the scope date is not X-Sdk-Date' };
  const declared = auth.signedHeaders.includes('x-sdk-content-sha256')
    ? req.headers['x-sdk-content-sha256']
    : undefined;
  const payloadHash = declared ?? (req.body ? createHash('sha256').update(req.body).digest('hex') : EMPTY_SHA256);
  const canonicalHash = createHash('sha256')
    .update(canonicalRequest(req, auth.signedHeaders, payloadHash))
    .digest('hex');
  const stringToSign = [auth.algorithm, sdkDate, ...(auth.scope ? [auth.scope] : []), canonicalHash].join('\n');
  const expected = Buffer.from(hmacHex(signingKey(auth, secretKey), stringToSign), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(auth.signature, 'hex')))
    return { ok: false, reason: 'signature mismatch' };
  // A declared payload hash other than UNSIGNED-PAYLOAD must also be the body's.
  if (
    declared !== undefined &&
    declared !== 'UNSIGNED-PAYLOAD' &&
    declared !== createHash('sha256').update(req.body).digest('hex')
  )
    return { ok: false, reason: 'body does not match X-Sdk-Content-Sha256' };
  return { ok: true };
};
