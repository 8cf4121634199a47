import * as z from 'zod';
import { FIRST_MARKER } from './domain/batch-tasks.ts';

const integer = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .default(fallback);

/**
 * IoTDA §1 paging of every list, as query parameters: limit 1..50 (10), marker 24 hex (ffff...: from the
 * start; a page holds the records whose id is below it), offset 0..500 (0).
 */
export const PAGING = {
  limit: integer(1, 50, 10),
  marker: z
    .string()
    .regex(/^[0-9a-fA-F]{24}$/, 'must be 24 hexadecimal characters')
    .transform((m) => m.toLowerCase())
    .default(FIRST_MARKER),
  offset: integer(0, 500, 0),
};
