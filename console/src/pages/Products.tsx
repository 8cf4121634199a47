import { Anchor, Button, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useState } from 'react';
import { Link } from 'wouter';
import { call, enc, query, showTime, type Page, type ProductSummary } from '../api.ts';
import { ErrorAlert, Pager } from '../components/common.tsx';
import { useLoad, useSession } from '../hooks.ts';

const LIMIT = 20;

export function ProductsPage() {
  const { session } = useSession();
  const [name, setName] = useState('');
  const [productName] = useDebouncedValue(name.trim(), 300);
  const [markers, setMarkers] = useState<string[]>([]);
  const list = useLoad(
    () =>
      call<{ products: ProductSummary[]; page: Page }>(
        session,
        'GET',
        `/products${query({ limit: LIMIT, marker: markers.at(-1), product_name: productName })}`,
      ),
    [session, productName, markers],
  );
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Products</Title>
        <Button component={Link} href="/products/new">
          Create product
        </Button>
      </Group>
      <TextInput
        label="Name"
        maw={320}
        value={name}
        onChange={(e) => (setName(e.currentTarget.value), setMarkers([]))}
      />
      <ErrorAlert error={list.error} session={session} />
      <Table.ScrollContainer minWidth={560}>
        <Table striped highlightOnHover aria-label="Products">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Product</Table.Th>
              <Table.Th>Device type</Table.Th>
              <Table.Th>Protocol</Table.Th>
              <Table.Th>Created</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(list.data?.products ?? []).map((p) => (
              <Table.Tr key={p.product_id}>
                <Table.Td>
                  <Anchor component={Link} href={`/products/${enc(p.product_id)}`}>
                    {p.name}
                  </Anchor>
                  <Text size="xs" c="dimmed">
                    {p.product_id}
                  </Text>
                </Table.Td>
                <Table.Td>{p.device_type}</Table.Td>
                <Table.Td>{p.protocol_type}</Table.Td>
                <Table.Td>{showTime(p.create_time)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {list.data?.products.length === 0 && <Text c="dimmed">No products{productName ? ' match' : ' yet'}.</Text>}
      <Pager
        markers={markers}
        page={list.data?.page}
        limit={LIMIT}
        shown={list.data?.products.length ?? 0}
        onPage={setMarkers}
      />
    </Stack>
  );
}
