/** Where the tools find the local runtime: its DOWNLINK_HOST, or loopback when it binds every address. */
export const localHost = (env: NodeJS.ProcessEnv): string =>
  !env.DOWNLINK_HOST || env.DOWNLINK_HOST === '0.0.0.0' || env.DOWNLINK_HOST === '::' ? '127.0.0.1' : env.DOWNLINK_HOST;
