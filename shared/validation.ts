import { z } from 'zod';
import { errors } from './errors.ts';

/** IoTDA §1 id shapes. */
export const DEVICE_ID = /^[A-Za-z0-9_-]{1,128}$/;
export const ID_CHARS = /^[A-Za-z0-9_-]+$/;

export const idString = (max: number) => z.string().min(1).max(max).regex(ID_CHARS, `must be at most ${max} of [A-Za-z0-9_-]`);

const fieldName = (path: PropertyKey[]): string => (path.length ? path.map(String).join('.') : 'body');

/** Parses `value` or throws IOTDA.000006 naming the first offending field. */
export const parseInput = <T extends z.ZodType>(schema: T, value: unknown): z.output<T> => {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const why =
    issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message.replace(/^Invalid input: /, '');
  throw errors.invalid(fieldName(issue.path), why);
};

/** A path parameter that must be an id; a malformed one can name nothing, so it is reported as invalid input. */
export const parseDeviceId = (value: string | undefined): string => {
  if (!value || !DEVICE_ID.test(value)) throw errors.invalid('device_id', 'must be 1-128 of [A-Za-z0-9_-]');
  return value;
};
