/**
 * The subset of the AWS IoT rules SQL the manifest uses, so local rules run from the same definitions:
 * `SELECT <items> FROM '<topic filter>'`, items being `*`, `encode(*, 'base64') AS x`, `topic() AS x`,
 * `topic(n) AS x`, `clientid() AS x`, `timestamp() AS x`. Anything else is refused at start rather than silently
 * mis-run.
 */

export interface CompiledRule {
  filter: string;
  select(payload: Buffer, topic: string, clientId: string | undefined): Record<string, unknown>;
}

const SQL = /^SELECT\s+(.+?)\s+FROM\s+'([^']+)'\s*$/i;
const ITEM =
  /^(?:(\*)|(topic|clientid|timestamp)\((\d*)\)\s+AS\s+([a-z_]\w*)|encode\(\*,\s*'base64'\)\s+AS\s+([a-z_]\w*))$/i;

type Item = (payload: Buffer, topic: string, clientId: string | undefined) => Record<string, unknown>;

const payloadObject = (payload: Buffer): Record<string, unknown> => {
  try {
    const v: unknown = JSON.parse(payload.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through: AWS passes a non-JSON payload to `SELECT *` base64-encoded
  }
  return { payload: payload.toString('base64') };
};

const compileItem = (text: string, sql: string): Item => {
  const m = ITEM.exec(text.trim());
  if (!m) throw new Error(`unsupported rule SQL item '${text}' in: ${sql}`);
  const [, star, fn, arg, alias, encodedAlias] = m;
  if (star) return (payload) => payloadObject(payload);
  if (encodedAlias) return (payload) => ({ [encodedAlias]: payload.toString('base64') });
  switch (fn!.toLowerCase()) {
    case 'topic':
      // topic(n) is 1-based, as in AWS.
      return (_p, topic) => ({ [alias!]: arg ? (topic.split('/')[Number(arg) - 1] ?? null) : topic });
    case 'clientid':
      return (_p, _t, clientId) => ({ [alias!]: clientId ?? 'n/a' });
    default:
      return () => ({ [alias!]: Date.now() });
  }
};

export const compileRule = (sql: string): CompiledRule => {
  const m = SQL.exec(sql.trim());
  if (!m) throw new Error(`unsupported rule SQL: ${sql}`);
  // Commas inside a function's parentheses do not separate items.
  const items = m[1]!.split(/,(?![^(]*\))/).map((t) => compileItem(t, sql));
  return {
    filter: m[2]!,
    select: (payload, topic, clientId) => Object.assign({}, ...items.map((item) => item(payload, topic, clientId))),
  };
};

/** MQTT topic filter matching (`+` one level, `#` the rest). */
export const topicMatches = (filter: string, topic: string): boolean => {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
};
