import { describe, expect, it } from 'vitest';
import { matchesWhere, parseWhere, WHERE_MAX_LENGTH, WhereSyntaxError } from '../../shared/domain/routing-rules.ts';

const delivered = {
  resource: 'device.message.status',
  event: 'update',
  request_id: 'r-1',
  notify_data: {
    header: { app_id: 'p1', device_id: 'valve-1', product_id: 'prod' },
    body: { message_id: 'm-1', status: 'DELIVERED', retries: 2, urgent: true, note: null, tags: ['a'] },
  },
};

const matches = (where: string) => matchesWhere(parseWhere(where), delivered);

describe('routing rule where', () => {
  it.each([
    "notify_data.header.device_id = 'valve-1'",
    "notify_data.body.status != 'FAILED'",
    "notify_data.body.status <> 'FAILED'",
    "notify_data.header.device_id = 'valve-1' AND notify_data.body.status = 'DELIVERED'",
    "notify_data.body.status = 'FAILED' OR notify_data.body.status = 'DELIVERED'",
    "notify_data.header.device_id = 'other' or notify_data.header.device_id = 'valve-1' and event = 'update'",
    "(notify_data.body.status = 'TIMEOUT' OR notify_data.body.status = 'DELIVERED') AND event = 'update'",
    'notify_data.body.retries = 2',
    'notify_data.body.retries >= 2 AND notify_data.body.retries < 2.5',
    'notify_data.body.urgent = TRUE',
    'notify_data.body.note = null',
    "NOT notify_data.body.status = 'FAILED'",
    "'valve-1' = notify_data.header.device_id",
    "notify_data.body.status > 'CANCELLED'",
  ])('matches %s', (where) => {
    expect(matches(where)).toBe(true);
  });

  it.each([
    "notify_data.header.device_id = 'valve-2'",
    "notify_data.header.device_id = 'valve-1' AND notify_data.body.status = 'FAILED'",
    "notify_data.body.status = 'FAILED' OR notify_data.body.status = 'TIMEOUT'",
    // SQL: a field the envelope lacks makes a comparison false, whichever way it is put.
    "notify_data.body.missing = 'x'",
    "notify_data.body.missing != 'x'",
    "notify_data.body.status.deeper = 'x'",
    // Unlike types are never equal, and objects or arrays compare as nothing.
    "notify_data.body.retries = '2'",
    'notify_data.body.urgent = 1',
    "notify_data.body.tags = 'a'",
    "notify_data.header = 'x'",
    "notify_data.body.retries > 'a'",
    'notify_data.body.urgent > false',
  ])('does not match %s', (where) => {
    expect(matches(where)).toBe(false);
  });

  it('reads quotes doubled inside a string as one quote', () => {
    expect(matchesWhere(parseWhere("a = 'it''s'"), { a: "it's" })).toBe(true);
  });

  it('matches everything without a condition', () => {
    expect(matchesWhere(undefined, delivered)).toBe(true);
  });

  it('does not read inherited properties', () => {
    expect(matchesWhere(parseWhere("constructor.name = 'Object'"), {})).toBe(false);
  });

  it.each([
    ['', 'is empty'],
    ['   ', 'is empty'],
    ["status = 'x", 'unterminated string'],
    ['status', 'expected a comparison'],
    ['status =', 'expected a field or a value, found the end'],
    ["status == 'x'", "found '=' at 8"],
    ["status = 'x' AND", 'found the end'],
    ["status = 'x' status = 'y'", 'expected AND, OR or the end'],
    ["(status = 'x'", "expected ')'"],
    ["status = 'x')", "found ')'"],
    ["status = 'x' ; DROP TABLE", "unexpected ';'"],
    ['status = AND', 'expected a value'],
    ["status LIKE 'x%'", "expected a comparison (= != < <= > >=), found 'LIKE'"],
    [`${'('.repeat(40)}a = 1${')'.repeat(40)}`, 'deeper than 32'],
    [`a = '${'x'.repeat(WHERE_MAX_LENGTH)}'`, `at most ${WHERE_MAX_LENGTH} characters`],
  ])('refuses %j, saying %s', (where, why) => {
    expect(() => parseWhere(where)).toThrow(WhereSyntaxError);
    expect(() => parseWhere(where)).toThrow(why);
  });
});
