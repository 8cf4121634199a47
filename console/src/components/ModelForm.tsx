import {
  Button,
  Checkbox,
  Fieldset,
  Group,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  TagsInput,
  Text,
  TextInput,
} from '@mantine/core';
import { createContext, useContext, type ReactNode } from 'react';
import { DATA_TYPES, METHODS } from '../../../shared/domain/product-model.ts';

/**
 * A product model (service_capabilities) as nested form fields. The model stays in its JSON shape, so what
 * the form has no input for (a property's default_value) is kept as it is, and the JSON editor edits the
 * very same value.
 */

type Path = (string | number)[];
type Obj = Record<string, unknown>;

const getIn = (v: unknown, path: Path): unknown => path.reduce<unknown>((o, k) => (o as Obj | undefined)?.[k], v);

/** `v` with the value at `path` replaced; undefined removes an object's key (an empty optional input). */
export const setIn = (v: unknown, [k, ...rest]: Path, value: unknown): unknown => {
  if (k === undefined) return value;
  const next: Obj = Array.isArray(v) ? ([...v] as unknown as Obj) : { ...(v as Obj) };
  const child = setIn(next[k], rest, value);
  if (child === undefined && !Array.isArray(v)) delete next[k];
  else next[k] = child;
  return next;
};

// Where the form shows an error: every key with an input, every list and every item of one ('#').
type Shown = { [key: string]: Shown | true };
const FIELD: Shown = Object.fromEntries(
  [
    'property_name',
    'para_name',
    'data_type',
    'method',
    'required',
    'min',
    'max',
    'step',
    'max_length',
    'enum_list',
    'unit',
    'description',
  ].map((k) => [k, true]),
);
const PARAS: Shown = { '#': FIELD };
const named = (key: string): Shown => ({ '#': { [key]: true, paras: PARAS } });
/** A product's own fields, edited on the form (its services apart). */
export const PRODUCT_FIELDS = [
  'product_id',
  'name',
  'device_type',
  'protocol_type',
  'data_format',
  'manufacturer_name',
  'industry',
  'description',
];
const SHOWN: Shown = {
  ...Object.fromEntries(PRODUCT_FIELDS.map((k) => [k, true])),
  service_capabilities: {
    '#': {
      ...Object.fromEntries(['service_id', 'service_type', 'option', 'description'].map((k) => [k, true])),
      properties: { '#': FIELD },
      commands: { '#': { command_name: true, paras: PARAS, responses: named('response_name') } },
      events: named('event_type'),
    },
  },
};

/**
 * Where the form shows an error about `path` (`service_capabilities.0.commands.1.paras.0.max`, as a 400 names
 * it): the path itself, or the nearest item or list holding it when the form has no input for it.
 */
export const shownAt = (path: string): string | undefined => {
  let node: Shown | true = SHOWN;
  const kept: string[] = [];
  for (const seg of path.split('.')) {
    const next: Shown | true | undefined = node === true ? undefined : node[/^\d+$/.test(seg) ? '#' : seg];
    if (!next) break;
    kept.push(seg);
    node = next;
  }
  return kept.length ? kept.join('.') : undefined;
};

/** An error about `path` in words, named from where it is shown: `max must be a number`. */
const errorText = (problem: { path: string; why: string }, at: string) => {
  const last = at.split('.').at(-1)!;
  return [/^\d+$/.test(last) ? '' : last, problem.path.slice(at.length + 1), problem.why].filter(Boolean).join(' ');
};

interface Model {
  value: unknown;
  set: (path: Path, v: unknown) => void;
  problem: { path: string; why: string } | undefined;
}
const ModelContext = createContext<Model | null>(null);

const useModel = () => {
  const m = useContext(ModelContext)!;
  return {
    get: (path: Path) => getIn(m.value, path),
    set: m.set,
    /** The error to show at `path`, if the current problem is shown there. */
    error: (path: Path) => {
      const at = path.join('.');
      return m.problem && shownAt(m.problem.path) === at ? errorText(m.problem, at) : undefined;
    },
  };
};

/** The product's fields and model, edited through `set`; `problem` is shown next to the input it names. */
export function ModelProvider({ children, ...model }: Model & { children: ReactNode }) {
  return <ModelContext.Provider value={model}>{children}</ModelContext.Provider>;
}

const ErrorLine = ({ path }: { path: Path }) => {
  const error = useModel().error(path);
  return error ? (
    <Text c="red" size="sm">
      {error}
    </Text>
  ) : null;
};

/** A text input bound to `path`; emptied, the key is removed (the API's optional fields). */
export function Input({
  path,
  label,
  ...rest
}: {
  path: Path;
  label: string;
  required?: boolean;
  description?: string;
  placeholder?: string;
}) {
  const m = useModel();
  return (
    <TextInput
      label={label}
      {...rest}
      value={(m.get(path) as string | undefined) ?? ''}
      error={m.error(path)}
      onChange={(e) => m.set(path, e.currentTarget.value || undefined)}
    />
  );
}

/** A select bound to `path`. */
export function Choice({
  path,
  label,
  data,
  clearable,
}: {
  path: Path;
  label: string;
  data: readonly string[];
  clearable?: boolean;
}) {
  const m = useModel();
  return (
    <Select
      label={label}
      data={[...data]}
      value={(m.get(path) as string | undefined) ?? null}
      error={m.error(path)}
      allowDeselect={!!clearable}
      clearable={clearable}
      onChange={(v) => m.set(path, v ?? undefined)}
    />
  );
}

function Amount({ path, label, integer }: { path: Path; label: string; integer?: boolean }) {
  const m = useModel();
  return (
    <NumberInput
      label={label}
      min={0}
      allowNegative={false}
      allowDecimal={!integer}
      value={(m.get(path) as number | string | undefined) ?? ''}
      error={m.error(path)}
      // A half-typed number ('0.') stays a string; the model check names it if it is still one on save.
      onChange={(v) => m.set(path, v === '' ? undefined : v)}
    />
  );
}

/**
 * A list of items (services, properties, commands, ...): each in a fieldset named `What n` with a remove
 * button, and an add button appending `blank`.
 */
function ListOf({
  path,
  what,
  blank,
  children,
}: {
  path: Path;
  what: string;
  blank: Obj;
  children: (at: Path, item: Obj) => ReactNode;
}) {
  const m = useModel();
  const items = (m.get(path) as Obj[] | undefined) ?? [];
  const set = (next: Obj[]) => m.set(path, next.length ? next : undefined);
  return (
    <Stack gap="xs">
      {items.map((item, i) => {
        const at = [...path, i];
        const legend = `${what} ${i + 1}`;
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: list items have no identity but their place
          <Fieldset key={i} legend={legend} p="sm">
            <Stack gap="xs">
              <ErrorLine path={at} />
              {children(at, item)}
              <Group justify="flex-end">
                <Button
                  variant="subtle"
                  color="red"
                  size="compact-sm"
                  aria-label={`Remove ${legend.toLowerCase()}`}
                  onClick={() => set(items.filter((_, j) => j !== i))}
                >
                  Remove
                </Button>
              </Group>
            </Stack>
          </Fieldset>
        );
      })}
      <ErrorLine path={path} />
      <Group>
        <Button variant="light" size="compact-sm" onClick={() => set([...items, blank])}>
          Add {what.toLowerCase()}
        </Button>
      </Group>
    </Stack>
  );
}

const NUMERIC = ['int', 'long', 'decimal'];
const LIMITS: Record<string, string[]> = {
  int: ['min', 'max', 'step', 'unit'],
  long: ['min', 'max', 'step', 'unit'],
  decimal: ['min', 'max', 'step', 'unit'],
  string: ['max_length'],
  'string list': ['max_length'],
  enum: ['enum_list'],
};

/** A new data type drops the limits that mean nothing for it (a string's max_length on an int). */
const retype = (item: Obj, dataType: string): Obj => {
  const keep = LIMITS[dataType] ?? [];
  return Object.fromEntries(
    Object.entries({ ...item, data_type: dataType }).filter(
      ([k]) => !['min', 'max', 'step', 'unit', 'max_length', 'enum_list'].includes(k) || keep.includes(k),
    ),
  );
};

/** Properties or parameters: a name, a data type and the limits that type has; properties also a method. */
function Fields({ path, what }: { path: Path; what: 'Property' | 'Parameter' }) {
  const m = useModel();
  const nameKey = what === 'Property' ? 'property_name' : 'para_name';
  const blank =
    what === 'Property'
      ? { property_name: '', data_type: 'int', required: false, method: 'RW' }
      : { para_name: '', data_type: 'int', required: false };
  return (
    <ListOf path={path} what={what} blank={blank}>
      {(at, item) => {
        const type = String(item.data_type ?? '');
        return (
          <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="xs">
            <Input path={[...at, nameKey]} label={`${what} name`} required />
            <Select
              label="Data type"
              data={[...DATA_TYPES]}
              value={type || null}
              error={m.error([...at, 'data_type'])}
              allowDeselect={false}
              onChange={(v) => v && m.set(at, retype(item, v))}
            />
            {what === 'Property' && <Choice path={[...at, 'method']} label="Method" data={METHODS} />}
            {NUMERIC.includes(type) && (
              <>
                <Input path={[...at, 'min']} label="Min" />
                <Input path={[...at, 'max']} label="Max" />
                <Amount path={[...at, 'step']} label="Step" />
                <Input path={[...at, 'unit']} label="Unit" />
              </>
            )}
            {(type === 'string' || type === 'string list') && (
              <Amount path={[...at, 'max_length']} label="Max length" integer />
            )}
            {type === 'enum' && (
              <TagsInput
                label="Values (enum_list)"
                value={(m.get([...at, 'enum_list']) as string[] | undefined) ?? []}
                error={m.error([...at, 'enum_list'])}
                onChange={(v) => m.set([...at, 'enum_list'], v.length ? v : undefined)}
              />
            )}
            <Input path={[...at, 'description']} label="Description" />
            <Checkbox
              label="Required"
              mt={{ md: 'xl' }}
              checked={m.get([...at, 'required']) === true}
              error={m.error([...at, 'required'])}
              onChange={(e) => m.set([...at, 'required'], e.currentTarget.checked)}
            />
          </SimpleGrid>
        );
      }}
    </ListOf>
  );
}

/** Commands, their responses and services' events: a name and parameters (and a command's responses). */
const Named = ({
  path,
  what,
  nameKey,
  nameLabel = `${what} name`,
  extra,
}: {
  path: Path;
  what: string;
  nameKey: string;
  nameLabel?: string;
  extra?: (at: Path) => ReactNode;
}) => (
  <ListOf path={path} what={what} blank={{ [nameKey]: '' }}>
    {(at) => (
      <>
        <Input path={[...at, nameKey]} label={nameLabel} required />
        <Text size="sm" fw={500}>
          Parameters
        </Text>
        <Fields path={[...at, 'paras']} what="Parameter" />
        {extra?.(at)}
      </>
    )}
  </ListOf>
);

/** The model: services, each with properties, commands (parameters, responses) and events. */
export const ServicesForm = () => (
  <ListOf path={['service_capabilities']} what="Service" blank={{ service_id: '', service_type: '' }}>
    {(at) => (
      <>
        <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="xs">
          <Input path={[...at, 'service_id']} label="Service id" required />
          <Input path={[...at, 'service_type']} label="Service type" required />
          <Choice path={[...at, 'option']} label="Option" data={['Master', 'Mandatory', 'Optional']} clearable />
          <Input path={[...at, 'description']} label="Description" />
        </SimpleGrid>
        <Text fw={500}>Properties</Text>
        <Fields path={[...at, 'properties']} what="Property" />
        <Text fw={500}>Commands</Text>
        <Named
          path={[...at, 'commands']}
          what="Command"
          nameKey="command_name"
          extra={(c) => (
            <>
              <Text size="sm" fw={500}>
                Responses
              </Text>
              <Named path={[...c, 'responses']} what="Response" nameKey="response_name" />
            </>
          )}
        />
        <Text fw={500}>Events</Text>
        <Named path={[...at, 'events']} what="Event" nameKey="event_type" nameLabel="Event type" />
      </>
    )}
  </ListOf>
);
