// Emulators accept any credentials; giving fixed ones keeps the SDK from searching the machine for real ones.
const emulatorCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

// The SDK's default of 50 sockets queues requests when a batch chunk runs 100 commands at once.
const requestHandler = { httpAgent: { maxSockets: 256 }, httpsAgent: { maxSockets: 256 } };

/** Options for any SDK client: an emulator's endpoint locally, the SDK's own discovery on AWS. */
export const clientOptions = (region: string, endpoint: string | undefined) =>
  endpoint ? { region, endpoint, credentials: emulatorCredentials, requestHandler } : { region, requestHandler };
