// Emulators accept any credentials; giving fixed ones keeps the SDK from searching the machine for real ones.
const emulatorCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

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
