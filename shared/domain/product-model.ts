import * as z from 'zod';
import { parseCompactUtc } from '../time.ts';

/**
 * IoTDA product models (CONTRACT.md §5): what a product's services, properties, commands and their
 * parameters look like, the rules a model must obey to be stored, and the checks every command and
 * property request makes against it before anything is sent. Pure: no I/O.
 */

export const DATA_TYPES = [
  'int',
  'long',
  'decimal',
  'string',
  'DateTime',
  'jsonObject',
  'enum',
  'boolean',
  'string list',
] as const;
export type DataType = (typeof DATA_TYPES)[number];

/** R readable, W writable, E reported on change. */
export const METHODS = ['RWE', 'RW', 'RE', 'WE', 'E', 'W', 'R'] as const;

export const PROTOCOL_TYPES = [
  'MQTT',
  'CoAP',
  'HTTP',
  'HTTPS',
  'Modbus',
  'ONVIF',
  'OPC-UA',
  'OPC-DA',
  'Other',
] as const;

/** IoTDA's quotas: per product, per service, and the capability JSON as a whole. */
export const MODEL_LIMITS = { services: 500, perService: 500, capabilityBytes: 500 * 1024 } as const;

const INT_RANGE = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const NUMERIC: readonly DataType[] = ['int', 'long', 'decimal'];

// min and max are strings in IoTDA's model (1-16 characters); for numeric types they must be numbers.
const bound = z.string().min(1).max(16);

/** What a property and a command parameter have in common: a type and its limits. */
const fieldShape = {
  data_type: z.enum(DATA_TYPES),
  required: z.boolean().default(false),
  enum_list: z.array(z.string().max(1024)).max(1000).optional(),
  min: bound.optional(),
  max: bound.optional(),
  max_length: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
  step: z.number().min(0).optional(),
  unit: z.string().max(16).optional(),
  description: z.string().max(128).optional(),
};

export type FieldDef = {
  data_type: DataType;
  required: boolean;
  enum_list?: string[] | undefined;
  min?: string | undefined;
  max?: string | undefined;
  max_length?: number | undefined;
  step?: number | undefined;
};

/** The limits themselves must make sense: numeric bounds that are numbers and in order, an enum with values. */
const checkLimits = (f: FieldDef, ctx: z.RefinementCtx) => {
  if (f.data_type === 'enum' && !f.enum_list?.length)
    ctx.addIssue({ code: 'custom', path: ['enum_list'], message: 'is required for data_type enum' });
  if (!NUMERIC.includes(f.data_type)) return;
  for (const key of ['min', 'max'] as const) {
    const v = f[key];
    if (v !== undefined && !Number.isFinite(Number(v)))
      ctx.addIssue({ code: 'custom', path: [key], message: 'must be a number' });
  }
  if (f.min !== undefined && f.max !== undefined && Number(f.min) > Number(f.max))
    ctx.addIssue({ code: 'custom', path: ['min'], message: 'must not be greater than max' });
};

/** Names unique within one list (service ids, property names, ...): the path points at the second one. */
const uniqueBy =
  <T>(key: keyof T & string) =>
  (items: T[] | undefined, ctx: z.RefinementCtx) => {
    const seen = new Set<unknown>();
    (items ?? []).forEach((item, i) => {
      if (seen.has(item[key])) ctx.addIssue({ code: 'custom', path: [i, key], message: 'is not unique' });
      seen.add(item[key]);
    });
  };

const name = (max: number) => z.string().min(1).max(max);

const Para = z.object({ para_name: name(32), ...fieldShape }).superRefine((p, ctx) => checkLimits(p, ctx));
const Paras = z.array(Para).max(MODEL_LIMITS.perService).superRefine(uniqueBy('para_name'));

const Property = z
  .object({
    // A property name is a key of the device shadow: no '.' or '$'.
    property_name: name(64).regex(/^[^.$]+$/, "must not contain '.' or '$'"),
    ...fieldShape,
    method: z.enum(METHODS),
    default_value: z.unknown().optional(),
  })
  .superRefine((p, ctx) => {
    checkLimits(p, ctx);
    if (p.default_value !== undefined) {
      const wrong = checkValue(p, p.default_value);
      if (wrong) ctx.addIssue({ code: 'custom', path: ['default_value'], message: wrong });
    }
  });

const Command = z.object({
  command_name: name(64),
  paras: Paras.optional(),
  responses: z
    .array(z.object({ response_name: name(64), paras: Paras.optional() }))
    .max(MODEL_LIMITS.perService)
    .superRefine(uniqueBy('response_name'))
    .optional(),
});

const Service = z.object({
  service_id: name(64),
  service_type: name(64),
  option: z.enum(['Master', 'Mandatory', 'Optional']).optional(),
  description: z.string().max(128).optional(),
  properties: z.array(Property).max(MODEL_LIMITS.perService).superRefine(uniqueBy('property_name')).optional(),
  commands: z.array(Command).max(MODEL_LIMITS.perService).superRefine(uniqueBy('command_name')).optional(),
  events: z
    .array(z.object({ event_type: name(32), paras: Paras.optional() }))
    .max(MODEL_LIMITS.perService)
    .superRefine(uniqueBy('event_type'))
    .optional(),
});

export const ServiceCapabilities = z
  .array(Service)
  .max(MODEL_LIMITS.services)
  .superRefine(uniqueBy('service_id'))
  .superRefine((services, ctx) => {
    if (new TextEncoder().encode(JSON.stringify(services)).length > MODEL_LIMITS.capabilityBytes)
      ctx.addIssue({ code: 'custom', path: [], message: 'must be at most 500 KB of JSON' });
  });

export type ServiceDef = z.output<typeof Service>;
export type PropertyDef = z.output<typeof Property>;
export type CommandDef = z.output<typeof Command>;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether `value` is a whole number of steps of `step` from `base`, allowing for binary fractions (0.1 steps). */
const onStep = (value: number, base: number, step: number) => {
  const steps = (value - base) / step;
  return Math.abs(steps - Math.round(steps)) < 1e-9 * Math.max(1, Math.abs(steps));
};

/** Why `value` does not fit the field's type and limits (in words for an error_msg), or undefined when it fits. */
export function checkValue(f: FieldDef, value: unknown): string | undefined {
  switch (f.data_type) {
    case 'int':
    case 'long': {
      const ok =
        f.data_type === 'int'
          ? Number.isInteger(value) && (value as number) >= INT_RANGE.min && (value as number) <= INT_RANGE.max
          : Number.isSafeInteger(value);
      if (!ok) return f.data_type === 'int' ? 'must be an integer (int, 32 bits)' : 'must be an integer (long)';
      return checkNumberLimits(f, value as number);
    }
    case 'decimal':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
      return checkNumberLimits(f, value);
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      return f.max_length !== undefined && value.length > f.max_length
        ? `must be at most ${f.max_length} characters`
        : undefined;
    case 'enum':
      return typeof value === 'string' && f.enum_list?.includes(value)
        ? undefined
        : `must be one of ${(f.enum_list ?? []).join(', ')}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'DateTime':
      return typeof value === 'string' && !Number.isNaN(parseCompactUtc(value))
        ? undefined
        : "must be a time as yyyyMMdd'T'HHmmss'Z'";
    case 'jsonObject':
      return isPlainObject(value) ? undefined : 'must be a JSON object';
    case 'string list':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return 'must be a list of strings';
      return f.max_length !== undefined && value.some((v: string) => v.length > f.max_length!)
        ? `must hold strings of at most ${f.max_length} characters`
        : undefined;
  }
}

function checkNumberLimits(f: FieldDef, value: number): string | undefined {
  if (f.min !== undefined && value < Number(f.min)) return `must be at least ${f.min}`;
  if (f.max !== undefined && value > Number(f.max)) return `must be at most ${f.max}`;
  if (f.step && !onStep(value, f.min !== undefined ? Number(f.min) : 0, f.step))
    return `must be a multiple of ${f.step}${f.min !== undefined ? ` from ${f.min}` : ''}`;
  return undefined;
}

/** A request the model refuses: the JSON path of the offending field and the rule it breaks. */
export interface ModelRefusal {
  path: string;
  rule: string;
}

const refuse = (path: string, rule: string): ModelRefusal => ({ path, rule });

/** Checks an object of named values against field definitions: required present, none undefined, each valid. */
const checkFields = (
  defs: readonly (FieldDef & { name: string })[],
  values: Record<string, unknown>,
  path: string,
  what: string,
): ModelRefusal | undefined => {
  const byName = new Map(defs.map((d) => [d.name, d]));
  for (const d of defs)
    if (d.required && values[d.name] === undefined) return refuse(`${path}.${d.name}`, 'is required');
  for (const [key, value] of Object.entries(values)) {
    const d = byName.get(key);
    if (!d) return refuse(`${path}.${key}`, `is not a ${what} of the product model`);
    const wrong = checkValue(d, value);
    if (wrong) return refuse(`${path}.${key}`, wrong);
  }
  return undefined;
};

const serviceOf = (services: readonly ServiceDef[], serviceId: string) =>
  services.find((s) => s.service_id === serviceId);

/**
 * A command against the device's product (IoTDA: "commands can be delivered only after being defined in the
 * product model"). A product with no services is free-form, and so is a command without service_id.
 */
export const checkCommand = (
  services: readonly ServiceDef[],
  command: { service_id?: string | undefined; command_name?: string | undefined; paras: Record<string, unknown> },
): ModelRefusal | undefined => {
  if (!services.length || command.service_id === undefined) return undefined;
  const service = serviceOf(services, command.service_id);
  if (!service) return refuse('service_id', 'is not a service of the product model');
  const def = service.commands?.find((c) => c.command_name === command.command_name);
  if (!def) return refuse('command_name', `must be one of the commands of service ${service.service_id}`);
  return checkFields(
    (def.paras ?? []).map((p) => ({ ...p, name: p.para_name })),
    command.paras,
    'paras',
    'parameter',
  );
};

/** A property set: every property defined and writable (W in its method), every value valid. */
export const checkPropertySet = (
  services: readonly ServiceDef[],
  body: { services: readonly { service_id: string; properties: Record<string, unknown> }[] },
): ModelRefusal | undefined => {
  if (!services.length) return undefined;
  for (const [i, s] of body.services.entries()) {
    const path = `services.${i}`;
    const service = serviceOf(services, s.service_id);
    if (!service) return refuse(`${path}.service_id`, 'is not a service of the product model');
    const props = service.properties ?? [];
    for (const key of Object.keys(s.properties)) {
      const p = props.find((d) => d.property_name === key);
      if (p && !p.method.includes('W')) return refuse(`${path}.properties.${key}`, 'is not writable');
    }
    // A set names some properties, not all: `required` is about what a device reports.
    const wrong = checkFields(
      props.map((p) => ({ ...p, required: false, name: p.property_name })),
      s.properties,
      `${path}.properties`,
      'property',
    );
    if (wrong) return wrong;
  }
  return undefined;
};

/** A property query names a service of the product, when it names one. */
export const checkPropertyQuery = (
  services: readonly ServiceDef[],
  serviceId: string | undefined,
): ModelRefusal | undefined =>
  services.length && serviceId !== undefined && !serviceOf(services, serviceId)
    ? refuse('service_id', 'is not a service of the product model')
    : undefined;
