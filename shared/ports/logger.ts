/** Structured fields beside a log message. */
export type LogFields = Record<string, unknown>;

/** Structured logging, as the use cases need it; the Powertools Logger satisfies it (functions/create-deps.ts). */
export interface Logger {
  debug(message: string, ...fields: LogFields[]): void;
  info(message: string, ...fields: LogFields[]): void;
  warn(message: string, ...fields: LogFields[]): void;
  error(message: string, ...fields: LogFields[]): void;
}
