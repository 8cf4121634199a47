import {
  Anchor,
  Button,
  Collapse,
  Group,
  JsonInput,
  MultiSelect,
  NumberInput,
  Progress,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import { checkCommand, type ServiceDef } from '../../../shared/domain/product-model.ts';
import {
  allPages,
  call,
  compactUtc,
  enc,
  FINAL_TASK_STATUSES,
  query,
  showTime,
  type BatchTask,
  type Device,
  type Page,
  type Product,
  type TaskProgress,
} from '../api.ts';
import { ErrorAlert, Pager, StatusBadge } from '../components/common.tsx';
import { collectParams, ParamsForm, parasAsFields, type RawValues } from '../components/ParamsForm.tsx';
import { useAction, useLoad, useSession } from '../hooks.ts';
import { allProducts } from './Devices.tsx';

const LIMIT = 20;

export function TaskProgressBar({ p }: { p: TaskProgress }) {
  const pct = (n: number) => (p.total ? (n / p.total) * 100 : 0);
  const toGo = p.total - p.success - p.fail - p.stopped;
  return (
    <Stack gap={2} miw={140}>
      <Progress.Root size="lg" aria-label="Progress">
        <Progress.Section value={pct(p.success)} color="green" />
        <Progress.Section value={pct(p.fail)} color="red" />
        <Progress.Section value={pct(p.stopped)} color="gray" />
      </Progress.Root>
      <Text size="xs" c="dimmed">
        {p.success} ok · {p.fail} failed · {p.stopped} stopped · {toGo} to go, of {p.total}
      </Text>
    </Stack>
  );
}

export function BatchTasksPage() {
  const { session } = useSession();
  const [status, setStatus] = useState<string | null>(null);
  const [markers, setMarkers] = useState<string[]>([]);
  const list = useLoad(
    () =>
      call<{ batchtasks: BatchTask[]; page: Page }>(
        session,
        'GET',
        `/batchtasks${query({ limit: LIMIT, marker: markers.at(-1), status: status ?? undefined })}`,
      ),
    [session, status, markers],
    (d) => (d.batchtasks.some((t) => !FINAL_TASK_STATUSES.includes(t.status)) ? 2000 : undefined),
  );
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Batch tasks</Title>
        <Button component={Link} href="/batchtasks/new">
          Create task
        </Button>
      </Group>
      <Select
        label="Status"
        placeholder="Any"
        clearable
        maw={240}
        data={['Initializing', 'Waitting', 'Processing', 'Success', 'Fail', 'PartialSuccess', 'Stopping', 'Stopped']}
        value={status}
        onChange={(v) => (setStatus(v), setMarkers([]))}
      />
      <ErrorAlert error={list.error} session={session} />
      <Table.ScrollContainer minWidth={640}>
        <Table striped aria-label="Batch tasks">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Task</Table.Th>
              <Table.Th>Type</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Progress</Table.Th>
              <Table.Th>Created</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(list.data?.batchtasks ?? []).map((t) => (
              <Table.Tr key={t.task_id}>
                <Table.Td>
                  <Anchor component={Link} href={`/batchtasks/${enc(t.task_id)}`}>
                    {t.task_name}
                  </Anchor>
                  <Text size="xs" c="dimmed">
                    {t.task_id}
                  </Text>
                </Table.Td>
                <Table.Td>{t.task_type}</Table.Td>
                <Table.Td>
                  <StatusBadge status={t.status} />
                </Table.Td>
                <Table.Td>
                  <TaskProgressBar p={t.task_progress} />
                </Table.Td>
                <Table.Td>{showTime(t.create_time)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {list.data?.batchtasks.length === 0 && <Text c="dimmed">No batch tasks.</Text>}
      <Pager
        markers={markers}
        page={list.data?.page}
        limit={LIMIT}
        shown={list.data?.batchtasks.length ?? 0}
        onPage={setMarkers}
      />
    </Stack>
  );
}

const POLICY_FIELDS = [
  { key: 'retry_count', label: 'Retries (0–5)', min: 0, max: 5 },
  { key: 'retry_interval', label: 'Retry interval (minutes)', min: 1, max: 1440 },
  { key: 'max_per_minute', label: 'At most per minute', min: 1, max: 100000 },
  { key: 'abort_on_failure_percent', label: 'Stop when this % failed', min: 0.01, max: 100 },
  { key: 'abort_min_count', label: '…after at least this many ended', min: 1, max: 30000 },
] as const;

export function CreateBatchTaskPage() {
  const { session } = useSession();
  const [, navigate] = useLocation();
  const [type, setType] = useState<'createCommands' | 'createMessages'>('createCommands');
  const [name, setName] = useState('');
  const [productId, setProductId] = useState<string | null>(null);
  const [serviceId, setServiceId] = useState<string | null>(null);
  const [commandName, setCommandName] = useState<string | null>(null);
  const [raw, setRaw] = useState<RawValues>({});
  const [paraErrors, setParaErrors] = useState<Record<string, string>>({});
  const [freeCommand, setFreeCommand] = useState('{\n  "command_name": "",\n  "paras": {}\n}');
  const [picked, setPicked] = useState<string[]>([]);
  const [pasted, setPasted] = useState('');
  const [message, setMessage] = useState({ kind: 'text', text: '', name: '', ttl: 1440 as number | string });
  const [policyOpen, setPolicyOpen] = useState(false);
  const [policy, setPolicy] = useState<Record<string, number | string>>({});
  const [schedule, setSchedule] = useState('');
  const [problem, setProblem] = useState<string>();
  const action = useAction();

  const products = useLoad(() => allProducts(session), [session]);
  const product = useLoad(
    async () => (productId ? call<Product>(session, 'GET', `/products/${enc(productId)}`) : undefined),
    [session, productId],
  );
  // The target picker offers a product's first 1,000 devices; beyond that, paste ids.
  const devices = useLoad(
    async () => (productId ? allPages<Device>(session, '/devices', 'devices', { product_id: productId }, 1000) : []),
    [session, productId],
  );
  const services: ServiceDef[] = product.data?.service_capabilities ?? [];
  const service = services.find((s) => s.service_id === serviceId);
  const command = service?.commands?.find((c) => c.command_name === commandName);
  const fields = parasAsFields(command?.paras);

  const targets = () => [...new Set([...picked, ...pasted.split(/[\s,]+/).filter(Boolean)])];

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setProblem(undefined);
    let document: Record<string, unknown>;
    if (type === 'createCommands') {
      if (productId && services.length) {
        const { values, errors } = collectParams(fields, raw);
        setParaErrors(errors);
        if (!command) return setProblem('Pick a service and a command.');
        if (Object.keys(errors).length) return;
        document = { service_id: serviceId, command_name: commandName, paras: values };
        const refused = checkCommand(
          services,
          document as { service_id: string; command_name: string; paras: Record<string, unknown> },
        );
        if (refused) return setProblem(`${refused.path} ${refused.rule}`);
      } else {
        try {
          document = JSON.parse(freeCommand);
        } catch {
          return setProblem('The command is not valid JSON.');
        }
      }
    } else {
      let body: unknown = message.text;
      if (message.kind === 'json') {
        try {
          body = JSON.parse(message.text);
        } catch {
          return setProblem('The message is not valid JSON.');
        }
      }
      document = {
        message: body,
        ...(message.name.trim() ? { name: message.name.trim() } : {}),
        ...(message.ttl !== '' ? { ttl: Number(message.ttl) } : {}),
      };
    }
    const list = targets();
    if (!list.length) return setProblem('Pick or paste at least one device.');
    const task_policy: Record<string, unknown> = {};
    for (const f of POLICY_FIELDS)
      if (policy[f.key] !== undefined && policy[f.key] !== '') task_policy[f.key] = Number(policy[f.key]);
    if (schedule) task_policy.schedule_time = compactUtc(new Date(schedule));
    void action.run(async () => {
      const t = await call<BatchTask>(session, 'POST', '/batchtasks', {
        task_name: name.trim(),
        task_type: type,
        targets: list,
        document,
        ...(Object.keys(task_policy).length ? { task_policy } : {}),
      });
      navigate(`/batchtasks/${enc(t.task_id)}`);
    });
  };

  return (
    <Stack component="form" onSubmit={submit} maw={900}>
      <div>
        <Anchor component={Link} href="/batchtasks" size="sm">
          ← Batch tasks
        </Anchor>
        <Title order={2}>Create batch task</Title>
      </div>
      <TextInput
        label="Task name"
        description="Letters, digits and _, up to 128"
        required
        value={name}
        onChange={(e) => setName(e.currentTarget.value)}
      />
      <SegmentedControl
        aria-label="Task type"
        data={[
          { value: 'createCommands', label: 'Command' },
          { value: 'createMessages', label: 'Message' },
        ]}
        value={type}
        onChange={(v) => setType(v as typeof type)}
      />
      <Select
        label="Product"
        description="Its devices can be picked below; for commands, its model builds the form"
        clearable
        data={(products.data ?? []).map((p) => ({ value: p.product_id, label: `${p.name} (${p.product_id})` }))}
        value={productId}
        onChange={(v) => (setProductId(v), setServiceId(null), setCommandName(null), setRaw({}), setPicked([]))}
      />
      {type === 'createCommands' &&
        (productId && services.length ? (
          <>
            <Group grow wrap="wrap">
              <Select
                label="Service"
                required
                data={services.filter((s) => s.commands?.length).map((s) => s.service_id)}
                value={serviceId}
                onChange={(v) => (setServiceId(v), setCommandName(null), setRaw({}))}
              />
              <Select
                label="Command"
                required
                data={(service?.commands ?? []).map((c) => c.command_name)}
                value={commandName}
                onChange={(v) => (setCommandName(v), setRaw({}))}
                disabled={!service}
              />
            </Group>
            {command && <ParamsForm fields={fields} raw={raw} errors={paraErrors} onChange={setRaw} />}
          </>
        ) : (
          <JsonInput
            label="Command (JSON)"
            description="service_id, command_name, paras"
            autosize
            minRows={4}
            validationError="Not valid JSON"
            value={freeCommand}
            onChange={setFreeCommand}
          />
        ))}
      {type === 'createMessages' && (
        <>
          <SegmentedControl
            aria-label="Message kind"
            data={[
              { value: 'text', label: 'Text' },
              { value: 'json', label: 'JSON' },
            ]}
            value={message.kind}
            onChange={(v) => setMessage({ ...message, kind: v })}
          />
          {message.kind === 'json' ? (
            <JsonInput
              label="Message"
              required
              autosize
              minRows={3}
              validationError="Not valid JSON"
              value={message.text}
              onChange={(v) => setMessage({ ...message, text: v })}
            />
          ) : (
            <TextInput
              label="Message"
              required
              value={message.text}
              onChange={(e) => setMessage({ ...message, text: e.currentTarget.value })}
            />
          )}
          <Group grow wrap="wrap">
            <TextInput
              label="Name"
              value={message.name}
              onChange={(e) => setMessage({ ...message, name: e.currentTarget.value })}
            />
            <NumberInput
              label="TTL (minutes)"
              min={0}
              max={1440}
              step={5}
              clampBehavior="none"
              value={message.ttl}
              onChange={(v) => setMessage({ ...message, ttl: v })}
            />
          </Group>
        </>
      )}
      <MultiSelect
        label="Devices"
        description={productId ? `Devices of ${productId}` : 'Pick a product to choose from its devices'}
        searchable
        data={(devices.data ?? []).map((d) => ({ value: d.device_id, label: `${d.device_name} (${d.device_id})` }))}
        value={picked}
        onChange={setPicked}
        disabled={!productId}
      />
      <Textarea
        label="Device ids"
        description="Or paste ids, separated by spaces, commas or lines (up to 30,000)"
        autosize
        minRows={2}
        maxRows={8}
        value={pasted}
        onChange={(e) => setPasted(e.currentTarget.value)}
      />
      <Text size="sm" c="dimmed">
        {targets().length} target(s)
      </Text>
      <Button variant="subtle" w="fit-content" onClick={() => setPolicyOpen((o) => !o)} aria-expanded={policyOpen}>
        {policyOpen ? 'Hide' : 'Show'} task policy
      </Button>
      <Collapse expanded={policyOpen}>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput
            label="Start at"
            description="Your local time; empty: now"
            type="datetime-local"
            value={schedule}
            onChange={(e) => setSchedule(e.currentTarget.value)}
          />
          {POLICY_FIELDS.map((f) => (
            <NumberInput
              key={f.key}
              label={f.label}
              min={f.min}
              max={f.max}
              clampBehavior="none"
              value={policy[f.key] ?? ''}
              onChange={(v) => setPolicy({ ...policy, [f.key]: v })}
            />
          ))}
        </SimpleGrid>
      </Collapse>
      {problem && (
        <Text c="red" size="sm" role="alert">
          {problem}
        </Text>
      )}
      <ErrorAlert error={action.error} session={session} />
      <Group>
        <Button type="submit" loading={action.busy}>
          Create task
        </Button>
      </Group>
    </Stack>
  );
}
