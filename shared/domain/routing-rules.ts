/**
 * IoTDA routing rules (CONTRACT.md §7): what they route, and their `where` condition, IoTDA-style SQL without
 * the WHERE keyword over the push envelope's fields, e.g.
 *   notify_data.header.device_id = 'valve-1' AND (notify_data.body.status = 'DELIVERED' OR x.n >= 3)
 * Grammar (keywords in any case):
 *   or := and (OR and)*      and := not (AND not)*      not := NOT not | '(' or ')' | value op value
 *   op := = | != | <> | < | <= | > | >=
 *   value := dotted field path | 'string' ('' inside is a quote) | number | true | false | null
 * As in SQL, a comparison with a field the envelope lacks (or of unlike types) is false; `<` and friends
 * compare two numbers or two strings.
 */

export const PUSH_RESOURCES = ['device.status', 'device.message.status', 'batchtask'] as const;
export const PUSH_EVENTS = ['update'] as const;

/** IoTDA's 2025 limit on `select` and `where` (research console-and-models §5). */
export const WHERE_MAX_LENGTH = 2500;
/** Parentheses and NOTs nest at most this deep, so a hostile condition cannot exhaust the stack. */
const MAX_DEPTH = 32;

export type WhereValue = { field: string[] } | { literal: string | number | boolean | null };
export type Comparison = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type WhereExpr =
  | { and: WhereExpr[] }
  | { or: WhereExpr[] }
  | { not: WhereExpr }
  | { compare: Comparison; left: WhereValue; right: WhereValue };

/** A `where` that cannot be parsed; the message says what is wrong and where. */
export class WhereSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'WhereSyntaxError';
  }
}

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: 'number'; value: number; at: number }
  | { kind: 'op'; text: string; at: number }
  | { kind: 'end'; at: number };

const WORD = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const OPERATOR = /!=|<>|<=|>=|[=<>()]/y;

const tokenize = (text: string): Token[] => {
  const tokens: Token[] = [];
  let i = 0;
  const match = (re: RegExp) => {
    re.lastIndex = i;
    return re.exec(text)?.[0];
  };
  while (i < text.length) {
    if (/\s/.test(text[i]!)) {
      i++;
      continue;
    }
    const at = i;
    if (text[i] === "'") {
      let value = '';
      for (i++; ; i++) {
        if (i >= text.length) throw new WhereSyntaxError(`unterminated string starting at ${at}`, at);
        if (text[i] === "'" && text[i + 1] === "'") value += text[i++];
        else if (text[i] === "'") break;
        else value += text[i];
      }
      i++;
      tokens.push({ kind: 'string', text: value, at });
      continue;
    }
    const found = match(NUMBER) ?? match(WORD) ?? match(OPERATOR);
    if (found === undefined) throw new WhereSyntaxError(`unexpected '${text[i]}' at ${at}`, at);
    i += found.length;
    if (/^-?\d/.test(found)) tokens.push({ kind: 'number', value: Number(found), at });
    else if (/^[A-Za-z_]/.test(found)) tokens.push({ kind: 'word', text: found, at });
    else tokens.push({ kind: 'op', text: found === '<>' ? '!=' : found, at });
  }
  tokens.push({ kind: 'end', at: text.length });
  return tokens;
};

const describe = (t: Token) => (t.kind === 'end' ? 'the end' : `'${'text' in t ? t.text : t.value}' at ${t.at}`);
const isKeyword = (t: Token, word: string) => t.kind === 'word' && t.text.toUpperCase() === word;
const COMPARISONS = new Set(['=', '!=', '<', '<=', '>', '>=']);

/** Parses a `where` (without the keyword); throws WhereSyntaxError naming what is wrong. */
export const parseWhere = (text: string): WhereExpr => {
  if (text.length > WHERE_MAX_LENGTH) throw new WhereSyntaxError(`must be at most ${WHERE_MAX_LENGTH} characters`, 0);
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos]!;
  const next = () => tokens[pos++]!;

  const value = (): WhereValue => {
    const t = next();
    if (t.kind === 'string') return { literal: t.text };
    if (t.kind === 'number') return { literal: t.value };
    if (t.kind === 'word') {
      const upper = t.text.toUpperCase();
      if (upper === 'TRUE' || upper === 'FALSE') return { literal: upper === 'TRUE' };
      if (upper === 'NULL') return { literal: null };
      if (['AND', 'OR', 'NOT'].includes(upper))
        throw new WhereSyntaxError(`expected a value, found ${describe(t)}`, t.at);
      return { field: t.text.split('.') };
    }
    throw new WhereSyntaxError(`expected a field or a value, found ${describe(t)}`, t.at);
  };

  const unary = (depth: number): WhereExpr => {
    const t = peek();
    if (depth > MAX_DEPTH) throw new WhereSyntaxError(`nests deeper than ${MAX_DEPTH} levels`, t.at);
    if (isKeyword(t, 'NOT')) {
      next();
      return { not: unary(depth + 1) };
    }
    if (t.kind === 'op' && t.text === '(') {
      next();
      const inner = or(depth + 1);
      const close = next();
      if (close.kind !== 'op' || close.text !== ')')
        throw new WhereSyntaxError(`expected ')', found ${describe(close)}`, close.at);
      return inner;
    }
    const left = value();
    const op = next();
    if (op.kind !== 'op' || !COMPARISONS.has(op.text))
      throw new WhereSyntaxError(`expected a comparison (= != < <= > >=), found ${describe(op)}`, op.at);
    return { compare: op.text as Comparison, left, right: value() };
  };

  const chain = (word: 'AND' | 'OR', operand: () => WhereExpr): WhereExpr => {
    const parts = [operand()];
    while (isKeyword(peek(), word)) {
      next();
      parts.push(operand());
    }
    if (parts.length === 1) return parts[0]!;
    return word === 'AND' ? { and: parts } : { or: parts };
  };
  const or = (depth: number): WhereExpr => chain('OR', () => chain('AND', () => unary(depth)));

  if (peek().kind === 'end') throw new WhereSyntaxError('is empty', 0);
  const expr = or(0);
  const rest = peek();
  if (rest.kind !== 'end') throw new WhereSyntaxError(`expected AND, OR or the end, found ${describe(rest)}`, rest.at);
  return expr;
};

const resolve = (v: WhereValue, envelope: unknown): unknown => {
  if ('literal' in v) return v.literal;
  let current: unknown = envelope;
  for (const key of v.field) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
};

const compare = (op: Comparison, a: unknown, b: unknown): boolean => {
  const scalar = (x: unknown) => x === null || ['string', 'number', 'boolean'].includes(typeof x);
  if (a === undefined || b === undefined || !scalar(a) || !scalar(b) || typeof a !== typeof b) return false;
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    default: {
      if (typeof a !== 'number' && typeof a !== 'string') return false;
      const [x, y] = [a as number | string, b as number | string];
      return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
    }
  }
};

/** Whether an envelope satisfies a rule's condition; no condition matches everything. */
export const matchesWhere = (expr: WhereExpr | undefined, envelope: unknown): boolean => {
  if (!expr) return true;
  if ('and' in expr) return expr.and.every((e) => matchesWhere(e, envelope));
  if ('or' in expr) return expr.or.some((e) => matchesWhere(e, envelope));
  if ('not' in expr) return !matchesWhere(expr.not, envelope);
  return compare(expr.compare, resolve(expr.left, envelope), resolve(expr.right, envelope));
};
