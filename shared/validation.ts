import * as z from 'zod';
import { errors } from './errors.ts';

/** IoTDA §1 id shapes. */
export const DEVICE_ID = /^[A-Za-z0-9_-]{1,128}$/;
export const ID_CHARS = /^[A-Za-z0-9_-]+$/;

export const idString = (max: number) =>
  z.string().min(1).max(max).regex(ID_CHARS, `must be at most ${max} of [A-Za-z0-9_-]`);

const fieldName = (path: PropertyKey[]): string => (path.length ? path.map(String).join('.') : 'body');

/** Parses `value` or throws IOTDA.000006 naming the first offending field. */
export const parseInput = <T extends z.ZodType>(schema: T, value: unknown): z.output<T> => {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const why =
    issue.code === 'invalid_type' && issue.input === undefined
      ? 'is required'
      : issue.message.replace(/^Invalid input: /, '');
  throw errors.invalid(fieldName(issue.path), why);
};

/** A path parameter that must be an id; a malformed one can name nothing, so it is reported as invalid input. */
export const parseDeviceId = (value: string | undefined): string => {
  if (!value || !DEVICE_ID.test(value)) throw errors.invalid('device_id', 'must be 1-128 of [A-Za-z0-9_-]');
  return value;
};

/**
 * How deep a JSON body may nest, the body itself being level 1. DynamoDB stores at most 32 levels in an item,
 * and a body lands in one a level or two down (a message under `message`, a task's document under `document`,
 * that document's message under a sub-task's message's `message`): 20 keeps every accepted body storable.
 */
export const MAX_JSON_DEPTH = 20;

// DynamoDB's smallest magnitude; its largest (below 1e126) is past every integer lib-dynamodb marshals.
const SMALLEST_STORABLE = 1e-130;

/** Why a number parsed from JSON cannot be taken as it was sent, or undefined when it can. */
const numberProblem = (n: number): string | undefined => {
  // JSON.parse turned it into Infinity: beyond a double.
  if (!Number.isFinite(n)) return 'is a number beyond the range of a double';
  // JSON.parse rounded it (9007199254740993 reads as ...992), and lib-dynamodb refuses it anyway.
  if (Number.isInteger(n) && !Number.isSafeInteger(n))
    return 'is an integer beyond ±9007199254740991 (2^53-1), which cannot be kept exactly';
  if (n !== 0 && Math.abs(n) < SMALLEST_STORABLE) return 'is a number closer to 0 than 1e-130, which cannot be stored';
  return undefined;
};

/**
 * What in a parsed JSON value cannot be taken as it was sent: nesting deeper than MAX_JSON_DEPTH (the field
 * named is the top-level one), or a number that JSON.parse changed or DynamoDB cannot hold. Walks with an
 * explicit stack: the value may be thousands of levels deep, past any recursive stringify or marshal.
 */
export const findUnstorableJson = (value: unknown): { field: string; why: string } | undefined => {
  const stack: { value: unknown; path: string[] }[] = [{ value, path: [] }];
  while (stack.length) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'number') {
      const why = numberProblem(value);
      if (why) return { field: fieldName(path), why };
    } else if (typeof value === 'object' && value !== null) {
      // The path is one step per level below the top: this container is at level path.length + 1.
      if (path.length + 1 > MAX_JSON_DEPTH)
        return {
          field: fieldName(path.slice(0, 1)),
          why: `must not nest deeper than ${MAX_JSON_DEPTH} levels (the body is level 1)`,
        };
      for (const [key, child] of Object.entries(value)) stack.push({ value: child, path: [...path, key] });
    }
  }
  return undefined;
};

/** 400 IOTDA.000006 for a body findUnstorableJson objects to, so every route treats them alike. */
export const rejectUnstorableJson = (body: unknown): void => {
  const problem = findUnstorableJson(body);
  if (problem) throw errors.invalid(problem.field, problem.why);
};
