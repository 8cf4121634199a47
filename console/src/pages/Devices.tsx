import {
  Anchor,
  Button,
  Code,
  CopyButton,
  Group,
  Modal,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import {
  allPages,
  call,
  enc,
  query,
  showTime,
  type Device,
  type Page,
  type ProductSummary,
  type Session,
} from '../api.ts';
import { ConfirmModal, ErrorAlert, Pager, StatusBadge } from '../components/common.tsx';
import { useAction, useLoad, useSession } from '../hooks.ts';

const LIMIT = 20;

/** Every product of the project, for pickers. */
export const allProducts = (session: Session) => allPages<ProductSummary>(session, '/products', 'products');

export function DevicesPage() {
  const { session } = useSession();
  const [productId, setProductId] = useState<string | null>(null);
  const [nodeId, setNodeId] = useState('');
  const [name, setName] = useState('');
  const [filters] = useDebouncedValue({ productId, nodeId: nodeId.trim(), name: name.trim() }, 300);
  const [markers, setMarkers] = useState<string[]>([]);
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<Device>();

  const products = useLoad(() => allProducts(session), [session]);
  const list = useLoad(
    () =>
      call<{ devices: Device[]; page: Page }>(
        session,
        'GET',
        `/devices${query({
          limit: LIMIT,
          marker: markers.at(-1),
          product_id: filters.productId ?? undefined,
          node_id: filters.nodeId,
          device_name: filters.name,
        })}`,
      ),
    [session, filters.productId, filters.nodeId, filters.name, markers],
  );
  const filtered = (f: () => void) => {
    f();
    setMarkers([]);
  };

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Devices</Title>
        <Button onClick={() => setAdding(true)}>Add device</Button>
      </Group>
      <Group grow preventGrowOverflow={false} wrap="wrap">
        <Select
          label="Product"
          placeholder="All products"
          clearable
          data={(products.data ?? []).map((p) => ({ value: p.product_id, label: `${p.name} (${p.product_id})` }))}
          value={productId}
          onChange={(v) => filtered(() => setProductId(v))}
        />
        <TextInput label="Node id" value={nodeId} onChange={(e) => filtered(() => setNodeId(e.currentTarget.value))} />
        <TextInput
          label="Name contains"
          value={name}
          onChange={(e) => filtered(() => setName(e.currentTarget.value))}
        />
      </Group>
      <ErrorAlert error={list.error} session={session} />
      <Table.ScrollContainer minWidth={640}>
        <Table striped highlightOnHover aria-label="Devices">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Device</Table.Th>
              <Table.Th>Node id</Table.Th>
              <Table.Th>Product</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Last online</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(list.data?.devices ?? []).map((d) => (
              <Table.Tr key={d.device_id} data-device={d.device_id}>
                <Table.Td>
                  <Anchor component={Link} href={`/devices/${enc(d.device_id)}`}>
                    {d.device_name}
                  </Anchor>
                  <Text size="xs" c="dimmed">
                    {d.device_id}
                  </Text>
                </Table.Td>
                <Table.Td>{d.node_id}</Table.Td>
                <Table.Td>{d.product_name ?? d.product_id}</Table.Td>
                <Table.Td>
                  <StatusBadge status={d.status} />
                </Table.Td>
                <Table.Td>{showTime(d.last_online_time)}</Table.Td>
                <Table.Td>
                  <Button
                    variant="subtle"
                    color="red"
                    size="xs"
                    onClick={() => setDeleting(d)}
                    aria-label={`Delete ${d.device_id}`}
                  >
                    Delete
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {list.data && list.data.devices.length === 0 && (
        <Text c="dimmed">No devices{filters.productId || filters.nodeId || filters.name ? ' match' : ' yet'}.</Text>
      )}
      <Pager
        markers={markers}
        page={list.data?.page}
        limit={LIMIT}
        shown={list.data?.devices.length ?? 0}
        onPage={setMarkers}
      />
      <AddDevice
        opened={adding}
        onClose={() => setAdding(false)}
        products={products.data ?? []}
        onAdded={() => void list.reload()}
      />
      <DeleteDevice device={deleting} onClose={() => setDeleting(undefined)} onDeleted={() => void list.reload()} />
    </Stack>
  );
}

function AddDevice({
  opened,
  onClose,
  products,
  onAdded,
}: {
  opened: boolean;
  onClose: () => void;
  products: ProductSummary[];
  onAdded: () => void;
}) {
  const { session } = useSession();
  const [, navigate] = useLocation();
  const [form, setForm] = useState({ product_id: '', node_id: '', device_id: '', device_name: '', secret: '' });
  const [added, setAdded] = useState<Device>();
  const action = useAction();
  const set = (k: keyof typeof form) => (v: string) => setForm({ ...form, [k]: v });

  const close = () => {
    setAdded(undefined);
    action.setError(undefined);
    setForm({ product_id: '', node_id: '', device_id: '', device_name: '', secret: '' });
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const body = {
        product_id: form.product_id,
        node_id: form.node_id.trim(),
        ...(form.device_id.trim() ? { device_id: form.device_id.trim() } : {}),
        ...(form.device_name.trim() ? { device_name: form.device_name.trim() } : {}),
        ...(form.secret ? { auth_info: { secret: form.secret } } : {}),
      };
      setAdded(await call<Device>(session, 'POST', '/devices', body));
      onAdded();
    });
  };

  return (
    <Modal opened={opened} onClose={close} title="Add device">
      {added ? (
        <Stack>
          <Text>
            Device <b>{added.device_id}</b> added. Its secret is shown this once: copy it now.
          </Text>
          <Group wrap="nowrap">
            <Code aria-label="Device secret" style={{ wordBreak: 'break-all' }}>
              {added.auth_info.secret}
            </Code>
            <CopyButton value={added.auth_info.secret ?? ''}>
              {({ copied, copy }) => (
                <Button size="xs" variant="light" onClick={copy}>
                  {copied ? 'Copied' : 'Copy'}
                </Button>
              )}
            </CopyButton>
          </Group>
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Close
            </Button>
            <Button onClick={() => (close(), navigate(`/devices/${enc(added.device_id)}`))}>Open device</Button>
          </Group>
        </Stack>
      ) : (
        <Stack component="form" onSubmit={submit}>
          <Select
            label="Product"
            required
            searchable
            data={products.map((p) => ({ value: p.product_id, label: `${p.name} (${p.product_id})` }))}
            value={form.product_id || null}
            onChange={(v) => set('product_id')(v ?? '')}
            nothingFoundMessage="No product: create one first"
          />
          <TextInput
            label="Node id"
            required
            value={form.node_id}
            onChange={(e) => set('node_id')(e.currentTarget.value)}
          />
          <TextInput
            label="Device id"
            description="Empty: {product_id}_{node_id}"
            value={form.device_id}
            onChange={(e) => set('device_id')(e.currentTarget.value)}
          />
          <TextInput
            label="Name"
            value={form.device_name}
            onChange={(e) => set('device_name')(e.currentTarget.value)}
          />
          <TextInput
            label="Secret"
            description="8 to 32 of A-Z a-z 0-9 _ -; empty: generated"
            value={form.secret}
            onChange={(e) => set('secret')(e.currentTarget.value)}
          />
          <ErrorAlert error={action.error} session={session} />
          <Group justify="flex-end">
            <Button type="submit" loading={action.busy} disabled={!form.product_id}>
              Add
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

export function DeleteDevice({
  device,
  onClose,
  onDeleted,
}: {
  device: Device | undefined;
  onClose: () => void;
  onDeleted: () => void;
}) {
  const { session } = useSession();
  return (
    <ConfirmModal
      opened={!!device}
      title="Delete device"
      onClose={onClose}
      onConfirm={async () => {
        await call(session, 'DELETE', `/devices/${enc(device!.device_id)}`);
        onClose();
        onDeleted();
      }}
    >
      <Text>
        Delete <b>{device?.device_id}</b>? Its messages are deleted with it and its connection is cut. This cannot be
        undone.
      </Text>
    </ConfirmModal>
  );
}
