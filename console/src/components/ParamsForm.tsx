import { JsonInput, NumberInput, Select, Stack, Switch, TagsInput, TextInput } from '@mantine/core';
import { checkValue, type FieldDef } from '../../../shared/domain/product-model.ts';
import { compactUtc } from '../api.ts';

/** A command parameter or a property, as the form shows it. */
export type Field = FieldDef & { name: string; unit?: string | undefined; description?: string | undefined };

/** What the inputs hold, by field name, before it becomes the JSON the API takes. */
export type RawValues = Record<string, unknown>;

const isNumeric = (f: Field) => f.data_type === 'int' || f.data_type === 'long' || f.data_type === 'decimal';

/** One field's input value as JSON, or undefined when left empty; a string is an error to show. */
const toJson = (f: Field, raw: unknown): { value?: unknown; error?: string } => {
  switch (f.data_type) {
    case 'int':
    case 'long':
    case 'decimal':
      if (raw === '' || raw === undefined) return {};
      return { value: typeof raw === 'number' ? raw : Number(raw) };
    case 'boolean':
      return raw === undefined ? (f.required ? { value: false } : {}) : { value: raw };
    case 'DateTime': {
      if (!raw) return {};
      const d = new Date(String(raw));
      return Number.isNaN(d.getTime()) ? { error: 'is not a valid time' } : { value: compactUtc(d) };
    }
    case 'jsonObject':
      if (!raw || !String(raw).trim()) return {};
      try {
        return { value: JSON.parse(String(raw)) };
      } catch {
        return { error: 'is not valid JSON' };
      }
    case 'string list':
      return Array.isArray(raw) && raw.length ? { value: raw } : {};
    default:
      return raw === '' || raw === undefined || raw === null ? {} : { value: raw };
  }
};

/**
 * The form's values as the API's `paras` (or properties), checked with the very rules the server applies
 * (shared/domain/product-model.ts), so a value the model refuses is shown here and never sent.
 */
export function collectParams(
  fields: readonly Field[],
  raw: RawValues,
): { values: Record<string, unknown>; errors: Record<string, string> } {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const { value, error } = toJson(f, raw[f.name]);
    if (error) errors[f.name] = `${f.name} ${error}`;
    else if (value === undefined) {
      if (f.required) errors[f.name] = `${f.name} is required`;
    } else {
      const wrong = checkValue(f, value);
      if (wrong) errors[f.name] = `${f.name} ${wrong}`;
      else values[f.name] = value;
    }
  }
  return { values, errors };
}

const describe = (f: Field) => {
  const parts: string[] = [f.data_type];
  const bounded = f.min !== undefined || f.max !== undefined;
  if (isNumeric(f) && bounded) parts.push(`${f.min ?? '−∞'} to ${f.max ?? '∞'}`);
  if (f.step) parts.push(`step ${f.step}`);
  if (f.max_length !== undefined && (f.data_type === 'string' || f.data_type === 'string list'))
    parts.push(`at most ${f.max_length} characters`);
  if (f.unit) parts.push(f.unit);
  if (f.description) parts.push(f.description);
  return parts.join(' · ');
};

/** Inputs generated from a model's parameters: enum → select, numbers → number input, boolean → switch, ... */
export function ParamsForm({
  fields,
  raw,
  errors,
  onChange,
}: {
  fields: readonly Field[];
  raw: RawValues;
  errors: Record<string, string>;
  onChange: (next: RawValues) => void;
}) {
  const set = (name: string, value: unknown) => onChange({ ...raw, [name]: value });
  return (
    <Stack gap="sm">
      {fields.map((f) => {
        const common = { label: f.name, description: describe(f), required: f.required, error: errors[f.name] };
        switch (f.data_type) {
          case 'int':
          case 'long':
          case 'decimal':
            return (
              <NumberInput
                key={f.name}
                {...common}
                value={(raw[f.name] as number | string | undefined) ?? ''}
                onChange={(v) => set(f.name, v)}
                min={f.min !== undefined ? Number(f.min) : undefined}
                max={f.max !== undefined ? Number(f.max) : undefined}
                step={f.step || (f.data_type === 'decimal' ? 0.1 : 1)}
                allowDecimal={f.data_type === 'decimal'}
                // An out-of-range value is shown as an error, never silently changed.
                clampBehavior="none"
              />
            );
          case 'enum':
            return (
              <Select
                key={f.name}
                {...common}
                data={f.enum_list ?? []}
                value={(raw[f.name] as string | undefined) ?? null}
                onChange={(v) => set(f.name, v ?? undefined)}
                clearable={!f.required}
              />
            );
          case 'boolean':
            return (
              <Switch
                key={f.name}
                label={f.name}
                description={describe(f)}
                error={errors[f.name]}
                checked={raw[f.name] === true}
                onChange={(e) => set(f.name, e.currentTarget.checked)}
              />
            );
          case 'DateTime':
            return (
              <TextInput
                key={f.name}
                {...common}
                description={`${describe(f)} · your local time, sent as UTC`}
                type="datetime-local"
                step={1}
                value={(raw[f.name] as string | undefined) ?? ''}
                onChange={(e) => set(f.name, e.currentTarget.value)}
              />
            );
          case 'jsonObject':
            return (
              <JsonInput
                key={f.name}
                {...common}
                validationError="Not valid JSON"
                formatOnBlur
                autosize
                minRows={3}
                value={(raw[f.name] as string | undefined) ?? ''}
                onChange={(v) => set(f.name, v)}
              />
            );
          case 'string list':
            return (
              <TagsInput
                key={f.name}
                {...common}
                value={(raw[f.name] as string[] | undefined) ?? []}
                onChange={(v) => set(f.name, v)}
              />
            );
          default:
            return (
              <TextInput
                key={f.name}
                {...common}
                maxLength={f.max_length}
                value={(raw[f.name] as string | undefined) ?? ''}
                onChange={(e) => set(f.name, e.currentTarget.value)}
              />
            );
        }
      })}
    </Stack>
  );
}

/** A command's parameters as form fields. */
export const parasAsFields = (
  paras: readonly (FieldDef & { para_name: string; unit?: string; description?: string })[] | undefined,
): Field[] => (paras ?? []).map((p) => ({ ...p, name: p.para_name }));
