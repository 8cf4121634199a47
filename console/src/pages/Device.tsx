import {
  Alert,
  Anchor,
  Badge,
  Button,
  Group,
  JsonInput,
  Loader,
  Modal,
  NumberInput,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import { checkCommand, checkPropertySet, type ServiceDef } from '../../../shared/domain/product-model.ts';
import { ApiError, call, enc, explain, showTime, type Device, type Message, type Product } from '../api.ts';
import { ErrorAlert, LabeledValue, JsonView, StatusBadge } from '../components/common.tsx';
import {
  collectParams,
  ParamsForm,
  parasAsFields,
  type Field as FormField,
  type RawValues,
} from '../components/ParamsForm.tsx';
import { useAction, useLoad, useSession } from '../hooks.ts';
import { DeleteDevice } from './Devices.tsx';

export function DevicePage({ deviceId }: { deviceId: string }) {
  const { session } = useSession();
  const [, navigate] = useLocation();
  const [tab, setTab] = useState<string | null>('commands');
  const [deleting, setDeleting] = useState<Device>();
  const device = useLoad(
    () => call<Device>(session, 'GET', `/devices/${enc(deviceId)}`),
    [session, deviceId],
    () => 5000,
  );
  const productId = device.data?.product_id;
  const product = useLoad(
    async () =>
      productId ? call<Product>(session, 'GET', `/products/${enc(productId)}`).catch(() => undefined) : undefined,
    [session, productId],
  );

  if (device.error && !device.data) return <ErrorAlert error={device.error} session={session} />;
  if (!device.data) return <Loader />;
  const d = device.data;
  const services = product.data?.service_capabilities ?? [];

  return (
    <Stack>
      <Group justify="space-between" wrap="wrap">
        <div>
          <Anchor component={Link} href="/devices" size="sm">
            ← Devices
          </Anchor>
          <Group gap="sm">
            <Title order={2}>{d.device_name}</Title>
            <StatusBadge status={d.status} />
          </Group>
          <Text size="sm" c="dimmed">
            {d.device_id}
          </Text>
        </div>
        <Button variant="light" color="red" onClick={() => setDeleting(d)}>
          Delete device
        </Button>
      </Group>
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="overview">Overview</Tabs.Tab>
          <Tabs.Tab value="commands">Commands</Tabs.Tab>
          <Tabs.Tab value="properties">Properties</Tabs.Tab>
          <Tabs.Tab value="messages">Messages</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="overview" pt="md">
          <SimpleGrid cols={{ base: 1, xs: 2 }}>
            <LabeledValue label="Device id">{d.device_id}</LabeledValue>
            <LabeledValue label="Node id">{d.node_id}</LabeledValue>
            <LabeledValue label="Product">
              <Anchor component={Link} href={`/products/${enc(d.product_id)}`}>
                {d.product_name ?? d.product_id}
              </Anchor>
            </LabeledValue>
            <LabeledValue label="Status">
              <StatusBadge status={d.status} />
            </LabeledValue>
            <LabeledValue label="Last online">{showTime(d.last_online_time)}</LabeledValue>
            <LabeledValue label="Created">{showTime(d.create_time)}</LabeledValue>
            <LabeledValue label="Description">{d.description ?? '—'}</LabeledValue>
          </SimpleGrid>
        </Tabs.Panel>
        <Tabs.Panel value="commands" pt="md">
          <Commands device={d} services={services} onSent={() => void device.reload()} />
        </Tabs.Panel>
        <Tabs.Panel value="properties" pt="md">
          <Properties device={d} services={services} />
        </Tabs.Panel>
        <Tabs.Panel value="messages" pt="md">
          <Messages device={d} />
        </Tabs.Panel>
      </Tabs>
      <DeleteDevice device={deleting} onClose={() => setDeleting(undefined)} onDeleted={() => navigate('/devices')} />
    </Stack>
  );
}

/** The outcome of a sync call, as the operator should read it. */
interface SyncOutcome {
  at: string;
  body: unknown;
  elapsedMs: number;
  result?: { response: unknown; error_code?: string; error_msg?: string; command_id?: string; request_id?: string };
  error?: unknown;
}

/** Sends one sync request and times it, keeping the device's answer or the error. */
async function timed(send: () => Promise<SyncOutcome['result']>, body: unknown): Promise<SyncOutcome> {
  const start = performance.now();
  const at = new Date().toLocaleTimeString();
  try {
    const result = await send();
    return { at, body, result, elapsedMs: Math.round(performance.now() - start) };
  } catch (error) {
    return { at, body, error, elapsedMs: Math.round(performance.now() - start) };
  }
}

function SyncResult({ outcome }: { outcome: SyncOutcome }) {
  const { session } = useSession();
  if (outcome.error)
    return <ErrorAlert error={outcome.error} session={session} title={`Not sent (${outcome.elapsedMs} ms)`} />;
  const r = outcome.result!;
  if (r.error_code)
    return (
      <Alert color="orange" title={`No answer (${outcome.elapsedMs} ms)`} role="alert">
        <Text size="sm">{explain(new ApiError(200, r.error_code, r.error_msg ?? ''))}</Text>
        <Text size="xs" c="dimmed" mt={4}>
          HTTP 200 · {r.error_code} · {r.command_id ?? r.request_id}
        </Text>
      </Alert>
    );
  return (
    <Stack gap={4} data-testid="device-response">
      <Text size="sm">
        The device answered in <b>{outcome.elapsedMs} ms</b>:
      </Text>
      <JsonView value={r.response} label="Device response" />
    </Stack>
  );
}

const HISTORY_KEY = (deviceId: string) => `downlink.commands.${deviceId}`;

function Commands({ device, services, onSent }: { device: Device; services: ServiceDef[]; onSent: () => void }) {
  const { session } = useSession();
  const [open, setOpen] = useState(false);
  const [history, setHistory] = useState<SyncOutcome[]>(() =>
    JSON.parse(sessionStorage.getItem(HISTORY_KEY(device.device_id)) ?? '[]'),
  );
  const [last, setLast] = useState<SyncOutcome>();
  const [resending, setResending] = useState<number>();

  const send = async (body: Record<string, unknown>) => {
    const outcome = await timed(() => call(session, 'POST', `/devices/${enc(device.device_id)}/commands`, body), body);
    setLast(outcome);
    // Errors are kept as plain objects: the history outlives the page in session storage.
    const kept = {
      ...outcome,
      error: outcome.error instanceof ApiError ? { ...outcome.error, message: outcome.error.message } : outcome.error,
    };
    const next = [kept, ...history].slice(0, 50);
    setHistory(next);
    sessionStorage.setItem(HISTORY_KEY(device.device_id), JSON.stringify(next));
    onSent();
    return outcome;
  };

  return (
    <Stack>
      <Group>
        <Button onClick={() => setOpen(true)}>Deliver command</Button>
        {device.status !== 'ONLINE' && (
          <Text size="sm" c="dimmed">
            The device is {device.status.toLowerCase()}: a command will be refused until it connects.
          </Text>
        )}
      </Group>
      {last && <SyncResult outcome={last} />}
      <Title order={4}>Sent from this page</Title>
      {history.length === 0 ? (
        <Text c="dimmed" size="sm">
          Nothing yet in this browser session.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={500}>
          <Table aria-label="Command history">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Time</Table.Th>
                <Table.Th>Command</Table.Th>
                <Table.Th>Result</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {history.map((h, i) => {
                const b = h.body as { service_id?: string; command_name?: string; paras?: unknown };
                const err = h.error as { code?: string } | undefined;
                return (
                  // biome-ignore lint/suspicious/noArrayIndexKey: append-only: an entry's place is its identity
                  <Table.Tr key={i}>
                    <Table.Td>{h.at}</Table.Td>
                    <Table.Td>
                      <Text size="sm">
                        {[b.service_id, b.command_name].filter(Boolean).join(' / ') || '(free-form)'}
                      </Text>
                      <Text size="xs" c="dimmed" style={{ wordBreak: 'break-all' }}>
                        {JSON.stringify(b.paras)}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      {err ? (
                        <Badge color="red">{err.code}</Badge>
                      ) : h.result?.error_code ? (
                        <Badge color="orange">{h.result.error_code}</Badge>
                      ) : (
                        <Badge color="green">answered</Badge>
                      )}{' '}
                      <Text span size="xs" c="dimmed">
                        {h.elapsedMs} ms
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Button
                        size="xs"
                        variant="light"
                        loading={resending === i}
                        onClick={async () => {
                          setResending(i);
                          await send(h.body as Record<string, unknown>);
                          setResending(undefined);
                        }}
                      >
                        Resend
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <DeliverCommand opened={open} onClose={() => setOpen(false)} services={services} send={send} />
    </Stack>
  );
}

function DeliverCommand({
  opened,
  onClose,
  services,
  send,
}: {
  opened: boolean;
  onClose: () => void;
  services: ServiceDef[];
  send: (body: Record<string, unknown>) => Promise<SyncOutcome>;
}) {
  const withCommands = services.filter((s) => s.commands?.length);
  const [serviceId, setServiceId] = useState<string | null>(null);
  const [commandName, setCommandName] = useState<string | null>(null);
  const [raw, setRaw] = useState<RawValues>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [freeForm, setFreeForm] = useState('{\n  "command_name": "",\n  "paras": {}\n}');
  const [freeError, setFreeError] = useState<string>();
  const [outcome, setOutcome] = useState<SyncOutcome>();
  const [busy, setBusy] = useState(false);

  const service = withCommands.find((s) => s.service_id === serviceId);
  const command = service?.commands?.find((c) => c.command_name === commandName);
  const fields: FormField[] = parasAsFields(command?.paras);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let body: Record<string, unknown>;
    if (services.length === 0) {
      try {
        body = JSON.parse(freeForm);
      } catch {
        return setFreeError('Not valid JSON');
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        return setFreeError('Must be a JSON object');
      setFreeError(undefined);
    } else {
      const { values, errors } = collectParams(fields, raw);
      setErrors(errors);
      if (Object.keys(errors).length) return;
      body = { service_id: serviceId, command_name: commandName, paras: values };
      // The server's own check, run here first: nothing the model refuses is sent.
      const refused = checkCommand(
        services,
        body as { service_id: string; command_name: string; paras: Record<string, unknown> },
      );
      if (refused) return setErrors({ _: `${refused.path} ${refused.rule}` });
    }
    setBusy(true);
    setOutcome(await send(body));
    setBusy(false);
  };

  return (
    <Modal opened={opened} onClose={onClose} title="Deliver command" size="lg">
      <Stack component="form" onSubmit={submit}>
        {services.length === 0 ? (
          <>
            <Text size="sm" c="dimmed">
              This device's product has no model: the command is sent as written (`service_id`, `command_name`,
              `paras`).
            </Text>
            <JsonInput
              label="Command (JSON)"
              autosize
              minRows={5}
              value={freeForm}
              onChange={setFreeForm}
              error={freeError}
              validationError="Not valid JSON"
            />
          </>
        ) : withCommands.length === 0 ? (
          <Text c="dimmed">The product model defines no commands.</Text>
        ) : (
          <>
            <Group grow wrap="wrap">
              <Select
                label="Service"
                required
                data={withCommands.map((s) => s.service_id)}
                value={serviceId}
                onChange={(v) => (setServiceId(v), setCommandName(null), setRaw({}), setErrors({}))}
              />
              <Select
                label="Command"
                required
                data={(service?.commands ?? []).map((c) => c.command_name)}
                value={commandName}
                onChange={(v) => (setCommandName(v), setRaw({}), setErrors({}))}
                disabled={!service}
              />
            </Group>
            {command &&
              (fields.length ? (
                <ParamsForm fields={fields} raw={raw} errors={errors} onChange={setRaw} />
              ) : (
                <Text size="sm" c="dimmed">
                  This command has no parameters.
                </Text>
              ))}
            {errors._ && (
              <Text c="red" size="sm">
                {errors._}
              </Text>
            )}
          </>
        )}
        <Group justify="flex-end">
          <Button type="submit" loading={busy} disabled={services.length > 0 && !command}>
            Send
          </Button>
        </Group>
        {outcome && <SyncResult outcome={outcome} />}
      </Stack>
    </Modal>
  );
}

function Properties({ device, services }: { device: Device; services: ServiceDef[] }) {
  const { session } = useSession();
  const [serviceId, setServiceId] = useState<string | null>(services[0]?.service_id ?? null);
  const [freeService, setFreeService] = useState('');
  const [queried, setQueried] = useState<SyncOutcome>();
  const [set, setSet] = useState<SyncOutcome>();
  const [raw, setRaw] = useState<RawValues>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<'query' | 'set'>();
  const service = services.find((s) => s.service_id === serviceId);
  const writable: FormField[] = (service?.properties ?? [])
    .filter((p) => p.method.includes('W'))
    .map((p) => ({ ...p, name: p.property_name, required: false }));
  const sid = services.length ? serviceId : freeService.trim();

  const doQuery = async () => {
    setBusy('query');
    setQueried(
      await timed(
        () =>
          call(session, 'GET', `/devices/${enc(device.device_id)}/properties${sid ? `?service_id=${enc(sid)}` : ''}`),
        { service_id: sid },
      ),
    );
    setBusy(undefined);
  };
  const doSet = async (e: FormEvent) => {
    e.preventDefault();
    const { values, errors } = collectParams(writable, raw);
    if (!Object.keys(values).length && !Object.keys(errors).length) errors._ = 'Fill in at least one property';
    setErrors(errors);
    if (Object.keys(errors).length || !sid) return;
    const body = { services: [{ service_id: sid, properties: values }] };
    const refused = checkPropertySet(services, body);
    if (refused) return setErrors({ _: `${refused.path} ${refused.rule}` });
    setBusy('set');
    setSet(await timed(() => call(session, 'PUT', `/devices/${enc(device.device_id)}/properties`, body), body));
    setBusy(undefined);
  };

  return (
    <Stack>
      {services.length ? (
        <Select
          label="Service"
          data={services.map((s) => s.service_id)}
          value={serviceId}
          onChange={(v) => (setServiceId(v), setRaw({}), setErrors({}))}
          maw={400}
        />
      ) : (
        <TextInput
          label="Service id"
          description="The product has no model: any service id"
          value={freeService}
          onChange={(e) => setFreeService(e.currentTarget.value)}
          maw={400}
        />
      )}
      <Group>
        <Button onClick={() => void doQuery()} loading={busy === 'query'}>
          Query properties
        </Button>
      </Group>
      {queried && <SyncResult outcome={queried} />}
      <Title order={4}>Set properties</Title>
      {services.length && !writable.length ? (
        <Text c="dimmed" size="sm">
          No writable property in this service.
        </Text>
      ) : services.length ? (
        <Stack component="form" onSubmit={doSet}>
          <ParamsForm fields={writable} raw={raw} errors={errors} onChange={setRaw} />
          {errors._ && (
            <Text c="red" size="sm">
              {errors._}
            </Text>
          )}
          <Group>
            <Button type="submit" loading={busy === 'set'}>
              Set properties
            </Button>
          </Group>
        </Stack>
      ) : (
        <FreePropertySet
          onSet={async (properties) => {
            const body = { services: [{ service_id: sid, properties }] };
            setBusy('set');
            setSet(await timed(() => call(session, 'PUT', `/devices/${enc(device.device_id)}/properties`, body), body));
            setBusy(undefined);
          }}
          busy={busy === 'set'}
        />
      )}
      {set && <SyncResult outcome={set} />}
    </Stack>
  );
}

function FreePropertySet({ onSet, busy }: { onSet: (p: Record<string, unknown>) => Promise<void>; busy: boolean }) {
  const [text, setText] = useState('{}');
  const [error, setError] = useState<string>();
  return (
    <Stack>
      <JsonInput
        label="Properties (JSON object)"
        autosize
        minRows={3}
        value={text}
        onChange={setText}
        error={error}
        validationError="Not valid JSON"
      />
      <Group>
        <Button
          loading={busy}
          onClick={() => {
            try {
              const v = JSON.parse(text);
              if (typeof v !== 'object' || v === null || Array.isArray(v)) return setError('Must be a JSON object');
              setError(undefined);
              void onSet(v);
            } catch {
              setError('Not valid JSON');
            }
          }}
        >
          Set properties
        </Button>
      </Group>
    </Stack>
  );
}

function Messages({ device }: { device: Device }) {
  const { session } = useSession();
  const [open, setOpen] = useState(false);
  // While any message waits for the device, look again every 2 s: its delivery shows without a reload.
  const list = useLoad(
    () => call<{ messages: Message[] }>(session, 'GET', `/devices/${enc(device.device_id)}/messages`),
    [session, device.device_id],
    (d) => (d.messages.some((m) => m.status === 'PENDING') ? 2000 : undefined),
  );
  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          The device's newest 20 messages, newest first.
        </Text>
        <Group gap="xs">
          <Button variant="default" onClick={() => void list.reload()}>
            Refresh
          </Button>
          <Button onClick={() => setOpen(true)}>Send message</Button>
        </Group>
      </Group>
      <ErrorAlert error={list.error} session={session} />
      <Table.ScrollContainer minWidth={640}>
        <Table aria-label="Messages">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Message</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Created</Table.Th>
              <Table.Th>Finished</Table.Th>
              <Table.Th>Error</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(list.data?.messages ?? []).map((m) => (
              <Table.Tr key={m.message_id} data-message={m.message_id}>
                <Table.Td>
                  <Text size="sm">{m.name ?? m.message_id}</Text>
                  <Text size="xs" c="dimmed" style={{ wordBreak: 'break-all' }}>
                    {m.message_id} · {typeof m.message === 'string' ? m.message : JSON.stringify(m.message)}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <StatusBadge status={m.status} />
                </Table.Td>
                <Table.Td>{showTime(m.created_time)}</Table.Td>
                <Table.Td>{showTime(m.finished_time)}</Table.Td>
                <Table.Td>{m.error_info ? `${m.error_info.error_code}: ${m.error_info.error_msg}` : '—'}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {list.data?.messages.length === 0 && <Text c="dimmed">No messages.</Text>}
      <SendMessage
        opened={open}
        onClose={() => setOpen(false)}
        deviceId={device.device_id}
        onSent={(m) => {
          // Shown at once, then the list is read again for the stored view.
          list.setData((d) =>
            d ? { ...d, messages: [m, ...d.messages.filter((x) => x.message_id !== m.message_id)] } : d,
          );
          void list.reload();
        }}
      />
    </Stack>
  );
}

function SendMessage({
  opened,
  onClose,
  deviceId,
  onSent,
}: {
  opened: boolean;
  onClose: () => void;
  deviceId: string;
  onSent: (m: Message) => void;
}) {
  const { session } = useSession();
  const [form, setForm] = useState({
    name: '',
    kind: 'text',
    text: '',
    ttl: 1440 as number | string,
    payload_format: 'standard',
    encoding: 'none',
    topic: '',
    message_id: '',
  });
  const [jsonError, setJsonError] = useState<string>();
  const action = useAction();
  const set = <K extends keyof typeof form>(k: K, v: (typeof form)[K]) => setForm({ ...form, [k]: v });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    let message: unknown = form.text;
    if (form.kind === 'json') {
      try {
        message = JSON.parse(form.text);
      } catch {
        return setJsonError('Not valid JSON');
      }
    }
    setJsonError(undefined);
    const body = {
      message,
      ...(form.message_id.trim() ? { message_id: form.message_id.trim() } : {}),
      ...(form.name.trim() ? { name: form.name.trim() } : {}),
      ...(form.ttl !== '' ? { ttl: Number(form.ttl) } : {}),
      payload_format: form.payload_format,
      encoding: form.encoding,
      ...(form.topic.trim() ? { topic: form.topic.trim() } : {}),
    };
    void action.run(async () => {
      const r = await call<{
        message_id: string;
        result: { status: Message['status']; created_time: string; finished_time?: string };
      }>(session, 'POST', `/devices/${enc(deviceId)}/messages`, body);
      onSent({
        message_id: r.message_id,
        ...(body.name !== undefined ? { name: body.name } : {}),
        message,
        status: r.result.status,
        created_time: r.result.created_time,
        ...(r.result.finished_time !== undefined ? { finished_time: r.result.finished_time } : {}),
      });
      onClose();
    });
  };

  return (
    <Modal opened={opened} onClose={onClose} title="Send message" size="lg">
      <Stack component="form" onSubmit={submit}>
        <TextInput label="Name" value={form.name} onChange={(e) => set('name', e.currentTarget.value)} />
        <SegmentedControl
          aria-label="Message kind"
          data={[
            { value: 'text', label: 'Text' },
            { value: 'json', label: 'JSON' },
          ]}
          value={form.kind}
          onChange={(v) => set('kind', v)}
        />
        {form.kind === 'json' ? (
          <JsonInput
            label="Message"
            required
            autosize
            minRows={3}
            value={form.text}
            onChange={(v) => set('text', v)}
            error={jsonError}
            validationError="Not valid JSON"
          />
        ) : (
          <TextInput label="Message" required value={form.text} onChange={(e) => set('text', e.currentTarget.value)} />
        )}
        <Group grow wrap="wrap">
          <NumberInput
            label="TTL (minutes)"
            description="0 to 1440, a multiple of 5; 0: only if online"
            min={0}
            max={1440}
            step={5}
            value={form.ttl}
            onChange={(v) => set('ttl', v)}
            clampBehavior="none"
            allowDecimal={false}
          />
          <TextInput
            label="Message id"
            description="Empty: generated"
            value={form.message_id}
            onChange={(e) => set('message_id', e.currentTarget.value)}
          />
        </Group>
        <Group grow wrap="wrap">
          <Select
            label="Payload format"
            data={['standard', 'raw']}
            value={form.payload_format}
            onChange={(v) => set('payload_format', v ?? 'standard')}
            allowDeselect={false}
          />
          <Select
            label="Encoding"
            data={['none', 'base64']}
            value={form.encoding}
            onChange={(v) => set('encoding', v ?? 'none')}
            allowDeselect={false}
          />
          <TextInput
            label="Topic"
            description={`Empty: sys/messages/down; else oc/devices/${deviceId}/user/…`}
            value={form.topic}
            onChange={(e) => set('topic', e.currentTarget.value)}
          />
        </Group>
        <ErrorAlert error={action.error} session={session} />
        <Group justify="flex-end">
          <Button type="submit" loading={action.busy}>
            Send
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
