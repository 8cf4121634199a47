import { Anchor, Badge, Button, Card, Group, Loader, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { Link, useLocation } from 'wouter';
import type { FieldDef } from '../../../shared/domain/product-model.ts';
import { call, enc, showTime, type Product } from '../api.ts';
import { ConfirmModal, ErrorAlert, LabeledValue } from '../components/common.tsx';
import { useLoad, useSession } from '../hooks.ts';

/** A field's type and limits in a few words: `int 0..100 step 5 %`. */
export const limits = (f: FieldDef & { unit?: string | undefined }) =>
  [
    f.min !== undefined || f.max !== undefined ? `${f.min ?? ''}..${f.max ?? ''}` : '',
    f.step ? `step ${f.step}` : '',
    f.max_length !== undefined ? `≤ ${f.max_length} chars` : '',
    f.enum_list?.length ? f.enum_list.join(' | ') : '',
    f.unit ?? '',
  ]
    .filter(Boolean)
    .join(' · ');

export function ProductPage({ productId }: { productId: string }) {
  const { session } = useSession();
  const [, navigate] = useLocation();
  const [confirm, setConfirm] = useState(false);
  const product = useLoad(() => call<Product>(session, 'GET', `/products/${enc(productId)}`), [session, productId]);
  if (product.error) return <ErrorAlert error={product.error} session={session} />;
  if (!product.data) return <Loader />;
  const p = product.data;
  return (
    <Stack>
      <Group justify="space-between" wrap="wrap">
        <div>
          <Anchor component={Link} href="/products" size="sm">
            ← Products
          </Anchor>
          <Title order={2}>{p.name}</Title>
          <Text size="sm" c="dimmed">
            {p.product_id}
          </Text>
        </div>
        <Group>
          <Button component={Link} href={`/products/${enc(p.product_id)}/edit`}>
            Edit
          </Button>
          <Button color="red" variant="light" onClick={() => setConfirm(true)}>
            Delete
          </Button>
        </Group>
      </Group>
      <SimpleGrid cols={{ base: 1, xs: 3 }}>
        <LabeledValue label="Device type">{p.device_type}</LabeledValue>
        <LabeledValue label="Protocol">{p.protocol_type}</LabeledValue>
        <LabeledValue label="Data format">{p.data_format}</LabeledValue>
        <LabeledValue label="Manufacturer">{p.manufacturer_name ?? '—'}</LabeledValue>
        <LabeledValue label="Industry">{p.industry ?? '—'}</LabeledValue>
        <LabeledValue label="Created">{showTime(p.create_time)}</LabeledValue>
      </SimpleGrid>
      {p.description && <Text size="sm">{p.description}</Text>}
      <Title order={3}>Model</Title>
      {p.service_capabilities.length === 0 && (
        <Text c="dimmed">No services: devices of this product take free-form commands and properties.</Text>
      )}
      {p.service_capabilities.map((s) => (
        <Card key={s.service_id} withBorder>
          <Group gap="xs" mb="xs">
            <Title order={4}>{s.service_id}</Title>
            <Badge variant="light">{s.service_type}</Badge>
            {s.option && <Badge variant="outline">{s.option}</Badge>}
          </Group>
          {s.description && (
            <Text size="sm" mb="xs">
              {s.description}
            </Text>
          )}
          {!!s.properties?.length && (
            <Table.ScrollContainer minWidth={480}>
              <Table aria-label={`Properties of ${s.service_id}`}>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Property</Table.Th>
                    <Table.Th>Type</Table.Th>
                    <Table.Th>Access</Table.Th>
                    <Table.Th>Limits</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {s.properties.map((pr) => (
                    <Table.Tr key={pr.property_name}>
                      <Table.Td>{pr.property_name}</Table.Td>
                      <Table.Td>{pr.data_type}</Table.Td>
                      <Table.Td>{pr.method}</Table.Td>
                      <Table.Td>{limits(pr)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
          {(s.commands ?? []).map((c) => (
            <Stack key={c.command_name} gap={4} mt="sm">
              <Text fw={600}>Command {c.command_name}</Text>
              {(c.paras ?? []).length === 0 ? (
                <Text size="sm" c="dimmed">
                  No parameters.
                </Text>
              ) : (
                <Table.ScrollContainer minWidth={480}>
                  <Table aria-label={`Parameters of ${c.command_name}`}>
                    <Table.Tbody>
                      {(c.paras ?? []).map((pa) => (
                        <Table.Tr key={pa.para_name}>
                          <Table.Td>
                            {pa.para_name}
                            {pa.required ? ' *' : ''}
                          </Table.Td>
                          <Table.Td>{pa.data_type}</Table.Td>
                          <Table.Td>{limits(pa)}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )}
            </Stack>
          ))}
        </Card>
      ))}
      <ConfirmModal
        opened={confirm}
        title="Delete product"
        onClose={() => setConfirm(false)}
        onConfirm={async () => {
          await call(session, 'DELETE', `/products/${enc(p.product_id)}`);
          navigate('/products');
        }}
      >
        <Text>
          Delete <b>{p.name}</b>? A product used by a device cannot be deleted.
        </Text>
      </ConfirmModal>
    </Stack>
  );
}
