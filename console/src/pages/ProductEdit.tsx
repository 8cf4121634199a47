import { Anchor, Button, Group, JsonInput, Loader, SegmentedControl, Select, SimpleGrid, Stack, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import { PROTOCOL_TYPES, ServiceCapabilities } from '../../../shared/domain/product-model.ts';
import { ApiError, call, enc, type Product } from '../api.ts';
import { ErrorAlert } from '../components/common.tsx';
import { useAction, useSession } from '../hooks.ts';

const FIELDS = ['product_id', 'name', 'device_type', 'protocol_type', 'data_format', 'manufacturer_name', 'industry', 'description'] as const;
type FormFields = Record<(typeof FIELDS)[number], string>;

const EMPTY: FormFields = { product_id: '', name: '', device_type: '', protocol_type: 'MQTT', data_format: 'json', manufacturer_name: '', industry: '', description: '' };

/** The field a 400 names (`Invalid input: service_capabilities.0.commands.1.paras.0.max must ...`), and the rest. */
const namedField = (e: unknown): { field: string; message: string } | undefined => {
  if (!(e instanceof ApiError) || e.code !== 'IOTDA.000006') return undefined;
  const m = /^Invalid input: (\S+) ([\s\S]*)$/.exec(e.message);
  return m ? { field: m[1]!, message: `${m[1]} ${m[2]}` } : undefined;
};

/** Create or edit a product: its fields in a form and its model as JSON, or the whole product pasted as JSON. */
export function ProductEditPage({ productId }: { productId?: string }) {
  const { session } = useSession();
  const [, navigate] = useLocation();
  const [mode, setMode] = useState('form');
  const [form, setForm] = useState<FormFields>(EMPTY);
  const [model, setModel] = useState('[]');
  const [pasted, setPasted] = useState('');
  const action = useAction();
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [loaded, setLoaded] = useState(!productId);

  useEffect(() => {
    if (!productId) return;
    call<Product>(session, 'GET', `/products/${enc(productId)}`).then(
      (p) => {
        setForm(Object.fromEntries(FIELDS.map((f) => [f, String(p[f] ?? '')])) as FormFields);
        setModel(JSON.stringify(p.service_capabilities, null, 2));
        setLoaded(true);
      },
      (e: unknown) => (action.setError(e), setLoaded(true)),
    );
  }, [session, productId]);

  const bodyFromForm = (): Record<string, unknown> | undefined => {
    let capabilities: unknown;
    try {
      capabilities = JSON.parse(model || '[]');
    } catch {
      setFieldErrors({ service_capabilities: 'The model is not valid JSON' });
      return undefined;
    }
    // The server's own model rules, checked before sending.
    const checked = ServiceCapabilities.safeParse(capabilities);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      setFieldErrors({ service_capabilities: `service_capabilities.${issue.path.join('.')} ${issue.message}` });
      return undefined;
    }
    const body: Record<string, unknown> = { service_capabilities: capabilities };
    for (const f of FIELDS) {
      if (f === 'product_id' && productId) continue;
      const v = form[f].trim();
      if (v) body[f] = v;
    }
    return body;
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    action.setError(undefined);
    setFieldErrors({});
    let body: Record<string, unknown> | undefined;
    if (mode === 'json') {
      try {
        body = JSON.parse(pasted);
      } catch {
        return setFieldErrors({ pasted: 'Not valid JSON' });
      }
      if (productId && body) delete body.product_id;
    } else body = bodyFromForm();
    if (!body) return;
    const sent = body;
    void action.run(async () => {
      try {
        const p = await call<Product>(session, productId ? 'PUT' : 'POST', productId ? `/products/${enc(productId)}` : '/products', sent);
        navigate(`/products/${enc(p.product_id)}`);
      } catch (err) {
        // A 400 naming a field is shown by that field; anything else in the alert.
        const named = namedField(err);
        const top = named?.field.split('.')[0];
        if (named && mode === 'form' && top && (FIELDS as readonly string[]).concat('service_capabilities').includes(top)) setFieldErrors({ [top]: named.message });
        else if (named && mode === 'json') setFieldErrors({ pasted: named.message });
        else throw err;
      }
    });
  };

  if (!loaded) return <Loader />;
  const input = (f: (typeof FIELDS)[number], label: string, extra: { required?: boolean; description?: string } = {}) => (
    <TextInput label={label} {...extra} value={form[f]} error={fieldErrors[f]} onChange={(e) => setForm({ ...form, [f]: e.currentTarget.value })} />
  );

  return (
    <Stack component="form" onSubmit={submit}>
      <div>
        <Anchor component={Link} href={productId ? `/products/${enc(productId)}` : '/products'} size="sm">
          ← {productId ? 'Product' : 'Products'}
        </Anchor>
        <Title order={2}>{productId ? `Edit ${form.name || productId}` : 'Create product'}</Title>
      </div>
      <SegmentedControl
        aria-label="Edit as"
        maw={320}
        data={[
          { value: 'form', label: 'Form' },
          { value: 'json', label: 'Paste JSON' },
        ]}
        value={mode}
        onChange={(v) => {
          if (v === 'json' && !pasted) {
            const b = bodyFromForm();
            setFieldErrors({});
            setPasted(JSON.stringify(b ?? {}, null, 2));
          }
          setMode(v);
        }}
      />
      {mode === 'form' ? (
        <>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            {!productId && input('product_id', 'Product id', { description: 'Empty: generated' })}
            {input('name', 'Name', { required: true })}
            {input('device_type', 'Device type', { required: true })}
            <Select label="Protocol" data={[...PROTOCOL_TYPES]} value={form.protocol_type} error={fieldErrors.protocol_type} allowDeselect={false} onChange={(v) => setForm({ ...form, protocol_type: v ?? 'MQTT' })} />
            <Select label="Data format" data={['json', 'binary']} value={form.data_format} error={fieldErrors.data_format} allowDeselect={false} onChange={(v) => setForm({ ...form, data_format: v ?? 'json' })} />
            {input('manufacturer_name', 'Manufacturer')}
            {input('industry', 'Industry')}
          </SimpleGrid>
          <Textarea label="Description" value={form.description} error={fieldErrors.description} onChange={(e) => setForm({ ...form, description: e.currentTarget.value })} />
          <JsonInput
            label="Model (service_capabilities)"
            description="A list of services, each with properties and commands (see docs/api.md); [] for a free-form product"
            autosize
            minRows={8}
            maxRows={30}
            formatOnBlur
            validationError="Not valid JSON"
            value={model}
            onChange={setModel}
            error={fieldErrors.service_capabilities}
          />
        </>
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
          error={fieldErrors.pasted}
        />
      )}
      <ErrorAlert error={action.error} session={session} />
      {Object.keys(fieldErrors).length > 0 && (
        <Text c="red" size="sm" role="status">
          The product was not saved: see the field marked above.
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
