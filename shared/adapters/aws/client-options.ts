/**
 * Gives `o` V8's fast property layout again. V8 keeps an object built up by many `Object.assign` steps and a
 * redefined property in dictionary mode, where copying it (`{ ...o }`) walks a hash table; it turns an object back
 * to the fast layout once loads through it as a prototype have warmed up (the loop: V8 only does it on an inline
 * cache miss, and the first loads of a new function have no inline cache yet).
 */
const fastProperties = (o: object) => {
  const child = Object.create(o);
  for (let i = 0; i < 100; i++) void child.fastPropertiesProbe;
};

/**
 * Emulators accept any credentials; giving fixed ones keeps the SDK from searching the machine for real ones.
 * A provider, not an object: the SDK calls it once per client (then keeps the answer) with the client's resolved
 * config, which each call copies three times (serializer, endpoint and deserializer middleware). That config ends
 * in dictionary mode, where each copy costs as much as the rest of the call's middleware; in the fast layout,
 * a tenth of that (docs/decisions.md, "SDK calls against the emulators").
 */
const emulatorCredentials = async (options?: { callerClientConfig?: object }) => {
  if (options?.callerClientConfig) fastProperties(options.callerClientConfig);
  return { accessKeyId: 'local', secretAccessKey: 'local' };
};

// The SDK's default of 50 sockets queues requests when a batch chunk runs 100 commands at once. The local
// runtime's in-process transport keeps the same bound on the requests at an emulator at once.
export const MAX_SOCKETS = 256;
const requestHandler = { httpAgent: { maxSockets: MAX_SOCKETS }, httpsAgent: { maxSockets: MAX_SOCKETS } };

/** An SDK request handler (@smithy/types RequestHandler), typed only as far as this module passes it on. */
type RequestHandler = { handle: (request: never) => Promise<unknown> };

/** Emulator endpoints whose requests the local runtime serves in its own process (local/in-process-transport.ts). */
const inProcess = new Map<string, RequestHandler>();

/** Clients made for `endpoint` from now on send their requests to `handler`; returns the undo. Local runtime only. */
export const serveInProcess = (endpoint: string, handler: RequestHandler) => {
  inProcess.set(endpoint, handler);
  return () => void inProcess.delete(endpoint);
};

interface SignableRequest {
  headers: Record<string, string>;
}

/**
 * The emulators read a signature's form, never its value (dynalite checks the header's parts, fauxqs takes the
 * region from its scope), so an emulator's client writes that form without the hashing SigV4 costs.
 */
const emulatorSigner = (region: string) => ({
  sign: async <R extends SignableRequest>(request: R): Promise<R> => {
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    request.headers['x-amz-date'] = date;
    request.headers.authorization =
      `AWS4-HMAC-SHA256 Credential=local/${date.slice(0, 8)}/${region}/local/aws4_request, ` +
      'SignedHeaders=host, Signature=0';
    return request;
  },
});

/** Options for any SDK client: an emulator's endpoint locally, the SDK's own discovery on AWS. */
export const clientOptions = (region: string, endpoint: string | undefined) =>
  endpoint
    ? {
        region,
        endpoint,
        credentials: emulatorCredentials,
        signer: emulatorSigner(region),
        requestHandler: inProcess.get(endpoint) ?? requestHandler,
      }
    : { region, requestHandler };
