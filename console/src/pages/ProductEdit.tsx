import {
  Anchor,
  Button,
  Group,
  JsonInput,
  Loader,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import { PROTOCOL_TYPES, ServiceCapabilities } from '../../../shared/domain/product-model.ts';
import { ApiError, call, enc, type Product } from '../api.ts';
import { ErrorAlert } from '../components/common.tsx';
import {
  Choice,
  Input,
  ModelProvider,
  PRODUCT_FIELDS,
  ServicesForm,
  setIn,
  shownAt,
} from '../components/ModelForm.tsx';
import { useAction, useSession } from '../hooks.ts';

const FIELDS = [...PRODUCT_FIELDS, 'service_capabilities'];
type Body = Record<string, unknown>;
/** Something wrong with the product, at a path as a 400 names it (empty: the whole pasted text). */
type Problem = { path: string; why: string };

const EMPTY: Body = { protocol_type: 'MQTT', data_format: 'json', service_capabilities: [] };

/** The field a 400 names (`Invalid input: service_capabilities.0.commands.1.paras.0.max must ...`), and why. */
const namedField = (e: unknown): Problem | undefined => {
  if (!(e instanceof ApiError) || e.code !== 'IOTDA.000006') return undefined;
  const m = /^Invalid input: (\S+) ([\s\S]*)$/.exec(e.message);
  return m ? { path: m[1]!, why: m[2]! } : undefined;
};

/** The body to send: top-level text trimmed and empty fields left out, the model as it is. */
const bodyOf = (draft: Body, productId: string | undefined): Body => {
  const body: Body = {};
  for (const [k, v] of Object.entries(draft)) {
    if (k === 'product_id' && productId) continue;
    const value = typeof v === 'string' ? v.trim() : v;
    if (value !== '' && value !== undefined && value !== null) body[k] = value;
  }
  return body;
};

/**
 * Create or edit a product, in a form (its fields and its model's services, properties, commands, ...) or as
 * pasted JSON: both edit the same product, and switching keeps the edits. A refusal (the model's rules
 * checked here first, then the server's 400) is shown next to the field it names.
 */
export function ProductEditPage({ productId }: { productId?: string }) {
  const { session } = useSession();
  const [, navigate] = useLocation();
  const [mode, setMode] = useState('form');
  const [draft, setDraft] = useState<Body>(EMPTY);
  const [pasted, setPasted] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const action = useAction();
  const [loaded, setLoaded] = useState(!productId);

  // biome-ignore lint/correctness/useExhaustiveDependencies: loads once per product; action.setError is a state setter
  useEffect(() => {
    if (!productId) return;
    call<Product>(session, 'GET', `/products/${enc(productId)}`).then(
      (p) => {
        setDraft(
          Object.fromEntries(
            Object.entries(p).filter(([k, v]) => FIELDS.includes(k) && k !== 'product_id' && v !== null),
          ),
        );
        setLoaded(true);
      },
      (e: unknown) => (action.setError(e), setLoaded(true)),
    );
  }, [session, productId]);

  // A refusal moves the focus to the field it names, so a keyboard user lands on it.
  useEffect(() => {
    if (problem) document.querySelector<HTMLElement>('form [aria-invalid="true"]')?.focus();
  }, [problem]);

  /** The pasted text as the product, or a problem to show by it. */
  const parsePasted = (): Body | undefined => {
    try {
      const v: unknown = JSON.parse(pasted);
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Body;
    } catch {
      // not JSON: undefined
    }
    return undefined;
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    action.setError(undefined);
    setProblem(undefined);
    const parsed = mode === 'json' ? parsePasted() : draft;
    if (!parsed) return setProblem({ path: '', why: 'Not a valid JSON object' });
    const body = bodyOf(parsed, productId);
    if (!productId) body.service_capabilities ??= [];
    // The server's own model rules, checked before sending.
    const checked = ServiceCapabilities.safeParse(body.service_capabilities ?? []);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      const missing = issue.code === 'invalid_type' && issue.input === undefined;
      return setProblem({
        path: ['service_capabilities', ...issue.path].join('.'),
        why: missing ? 'is required' : issue.message.replace(/^Invalid input: /, ''),
      });
    }
    void action.run(async () => {
      try {
        const p = await call<Product>(
          session,
          productId ? 'PUT' : 'POST',
          productId ? `/products/${enc(productId)}` : '/products',
          body,
        );
        navigate(`/products/${enc(p.product_id)}`);
      } catch (err) {
        // A 400 naming a field the form shows is shown by that field (or, as JSON, by the text); the rest in the alert.
        const named = namedField(err);
        if (named && (mode === 'json' || shownAt(named.path))) setProblem(named);
        else throw err;
      }
    });
  };

  const switchTo = (next: string) => {
    if (next === 'json') setPasted(JSON.stringify(bodyOf(draft, productId), null, 2));
    else {
      const parsed = parsePasted();
      if (!parsed) return setProblem({ path: '', why: 'Not a valid JSON object: fix it to switch to the form' });
      setDraft(parsed);
    }
    setMode(next);
  };

  if (!loaded) return <Loader />;
  const unshown = problem && mode === 'form' && !shownAt(problem.path);

  return (
    <Stack component="form" onSubmit={submit}>
      <div>
        <Anchor component={Link} href={productId ? `/products/${enc(productId)}` : '/products'} size="sm">
          ← {productId ? 'Product' : 'Products'}
        </Anchor>
        <Title order={2}>
          {productId ? `Edit ${(draft.name as string | undefined) || productId}` : 'Create product'}
        </Title>
      </div>
      <SegmentedControl
        aria-label="Edit as"
        maw={320}
        data={[
          { value: 'form', label: 'Form' },
          { value: 'json', label: 'JSON' },
        ]}
        value={mode}
        onChange={switchTo}
      />
      {mode === 'form' ? (
        <ModelProvider value={draft} set={(path, v) => setDraft((d) => setIn(d, path, v) as Body)} problem={problem}>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            {!productId && <Input path={['product_id']} label="Product id" description="Empty: generated" />}
            <Input path={['name']} label="Name" required />
            <Input path={['device_type']} label="Device type" required />
            <Choice path={['protocol_type']} label="Protocol" data={PROTOCOL_TYPES} />
            <Choice path={['data_format']} label="Data format" data={['json', 'binary']} />
            <Input path={['manufacturer_name']} label="Manufacturer" />
            <Input path={['industry']} label="Industry" />
            <Input path={['description']} label="Description" />
          </SimpleGrid>
          <Title order={3}>Model</Title>
          <Text size="sm" c="dimmed">
            Services with their properties, commands and events (see docs/api.md); none for a free-form product, whose
            devices take any command.
          </Text>
          <ServicesForm />
        </ModelProvider>
      ) : (
        <JsonInput
          label="Product (JSON)"
          description="The body of POST /products, as in examples/water-valve.product.json"
          autosize
          minRows={12}
          maxRows={40}
          validationError="Not valid JSON"
          value={pasted}
          onChange={setPasted}
          error={problem && [problem.path, problem.why].filter(Boolean).join(' ')}
        />
      )}
      <ErrorAlert error={action.error} session={session} />
      {problem && (
        <Text c="red" size="sm" role="status">
          The product was not saved: {unshown ? [problem.path, problem.why].join(' ') : 'see the field marked above.'}
        </Text>
      )}
      <Group>
        <Button type="submit" loading={action.busy}>
          {productId ? 'Save' : 'Create'}
        </Button>
      </Group>
    </Stack>
  );
}
