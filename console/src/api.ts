import type { ServiceDef } from '../../shared/domain/product-model.ts';

/** What the console remembers of a sign-in: this tab only (session storage), never on disk. */
export interface Session {
  token: string;
  project: string;
}

const SESSION_KEY = 'downlink.session';

export const loadSession = (): Session | null => {
  const raw = sessionStorage.getItem(SESSION_KEY);
  return raw ? (JSON.parse(raw) as Session) : null;
};
export const saveSession = (s: Session) => sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
export const clearSession = () => sessionStorage.removeItem(SESSION_KEY);

/** An answer other than 2xx, in the contract's error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Calls the public REST API of the project on this origin, as any application would. */
export async function call<T>(session: Session, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/v5/iot/${encodeURIComponent(session.project)}${path}`, {
      method,
      headers: { 'X-Auth-Token': session.token, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The API could not be reached. Is Downlink running?');
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = (json ?? {}) as { error_code?: string; error_msg?: string };
    throw new ApiError(res.status, e.error_code ?? `HTTP ${res.status}`, e.error_msg ?? (text || res.statusText));
  }
  return json as T;
}

/** An id or filter value placed in a path or query. */
export const enc = encodeURIComponent;

export const query = (params: Record<string, string | number | undefined>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
};

export interface Page {
  count: number;
  marker?: string;
}

/**
 * Every row of a list route, page after page (50 at a time, the API's most), up to `max`: for pickers.
 * `key` names the list in the answer (`products`, `devices`).
 */
export async function allPages<T>(
  session: Session,
  path: string,
  key: string,
  params: Record<string, string | undefined> = {},
  max = Infinity,
): Promise<T[]> {
  const out: T[] = [];
  let marker: string | undefined;
  while (out.length < max) {
    const r = await call<{ page: Page } & Record<string, T[]>>(
      session,
      'GET',
      `${path}${query({ ...params, limit: 50, marker })}`,
    );
    const rows = r[key] ?? [];
    out.push(...rows);
    if (!r.page.marker || rows.length < 50) break;
    marker = r.page.marker;
  }
  return out;
}

export interface Device {
  device_id: string;
  node_id: string;
  device_name: string;
  description?: string;
  product_id: string;
  product_name?: string;
  status: 'ONLINE' | 'OFFLINE' | 'INACTIVE';
  create_time: string;
  last_online_time?: string;
  auth_info: { secret?: string };
}

export interface ProductSummary {
  product_id: string;
  name: string;
  device_type: string;
  protocol_type: string;
  data_format: string;
  manufacturer_name?: string;
  industry?: string;
  description?: string;
  create_time: string;
}

export interface Product extends ProductSummary {
  service_capabilities: ServiceDef[];
}

export type MessageStatus = 'PENDING' | 'DELIVERED' | 'FAILED' | 'TIMEOUT';

export interface Message {
  message_id: string;
  name?: string;
  message: unknown;
  status: MessageStatus;
  error_info?: { error_code: string; error_msg: string };
  created_time: string;
  finished_time?: string;
}

export interface TaskProgress {
  total: number;
  processing: number;
  success: number;
  fail: number;
  waitting: number;
  fail_wait_retry: number;
  stopped: number;
}

export interface BatchTask {
  task_id: string;
  task_name: string;
  task_type: 'createCommands' | 'createMessages';
  status: string;
  status_desc: string;
  task_progress: TaskProgress;
  document: Record<string, unknown>;
  task_policy?: Record<string, unknown>;
  create_time: string;
}

export interface Subtask {
  target: string;
  status: string;
  output?: string;
  error?: { error_code: string; error_msg: string };
}

export const FINAL_TASK_STATUSES = ['Success', 'Fail', 'PartialSuccess', 'Stopped'];

/** IoTDA's compact UTC time (20261201T081735Z) as the browser's local time, or a dash. */
export const showTime = (t: string | null | undefined) => {
  const m = t ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(t) : null;
  if (!m) return '—';
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)).toLocaleString();
};

/** A Date as compact UTC, as the API takes times. */
export const compactUtc = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** Plain words for the answers an operator meets, next to the raw code. */
export const explain = (e: ApiError, session?: Session): string => {
  switch (e.code) {
    case 'IOTDA.014016':
      return (
        'The device is not online, so it cannot take a command or a property request now. ' +
        'Commands are not queued: send a message instead, which waits for the device to connect.'
      );
    case 'IOTDA.014111':
      return 'The device got the request but did not answer in time (20 s). It may still have carried it out.';
    case 'IOTDA.000002':
      return 'The token is unknown or revoked. Sign in again with a valid token (npm run tokens).';
    case 'IOTDA.000021':
      return (
        `The token does not grant project ${session?.project ?? ''}. ` +
        'Sign in with the project the token was made for.'
      );
    case 'IOTDA.014000':
      return 'The device does not exist (it may have been deleted).';
    case 'DOWNLINK.409003':
      return 'Devices still use this product: delete them first.';
    default:
      return e.message;
  }
};
