// Emulators accept any credentials; giving fixed ones keeps the SDK from searching the machine for real ones.
const emulatorCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

// The SDK's default of 50 sockets queues requests when a batch chunk runs 100 commands at once.
const requestHandler = { httpAgent: { maxSockets: 256 }, httpsAgent: { maxSockets: 256 } };

/** An SDK request handler (@smithy/types RequestHandler), typed only as far as this module passes it on. */
type RequestHandler = { handle: (request: never) => Promise<unknown> };

/** Emulator endpoints whose requests the local runtime serves in its own process (local/in-process-transport.ts). */
const inProcess = new Map<string, RequestHandler>();

/** Clients made for `endpoint` from now on send their requests to `handler`; returns the undo. Local runtime only. */
export const serveInProcess = (endpoint: string, handler: RequestHandler) => {
  inProcess.set(endpoint, handler);
  return () => void inProcess.delete(endpoint);
};

/** Options for any SDK client: an emulator's endpoint locally, the SDK's own discovery on AWS. */
export const clientOptions = (region: string, endpoint: string | undefined) =>
  endpoint
    ? { region, endpoint, credentials: emulatorCredentials, requestHandler: inProcess.get(endpoint) ?? requestHandler }
    : { region, requestHandler };
