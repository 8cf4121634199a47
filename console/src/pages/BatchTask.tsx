import { Anchor, Button, Checkbox, Group, Loader, Select, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { Link, useLocation } from 'wouter';
import { call, enc, FINAL_TASK_STATUSES, query, showTime, type BatchTask, type Page, type Subtask } from '../api.ts';
import { ConfirmModal, ErrorAlert, JsonView, LabeledValue, Pager, StatusBadge } from '../components/common.tsx';
import { useAction, useLoad, useSession } from '../hooks.ts';
import { TaskProgressBar } from './BatchTasks.tsx';

const LIMIT = 20;

interface TaskPage {
  batchtask: BatchTask;
  task_details: Subtask[];
  page: Page;
}

interface TargetResults {
  targets: { target: string; status: 'success' | 'failure'; error_code?: string; error_msg?: string }[];
}

export function BatchTaskPage({ taskId }: { taskId: string }) {
  const { session } = useSession();
  const [, navigate] = useLocation();
  const [status, setStatus] = useState<string | null>(null);
  const [markers, setMarkers] = useState<string[]>([]);
  const [selected, setSelected] = useState<string[]>([]);
  const action = useAction();
  const [acting, setActing] = useState<'stop' | 'retry'>();
  const [actionResult, setActionResult] = useState<string>();
  const [confirmDelete, setConfirmDelete] = useState(false);
  // A task still running is read again every 2 s: its progress and results move on the page.
  const task = useLoad(
    () =>
      call<TaskPage>(
        session,
        'GET',
        `/batchtasks/${enc(taskId)}` +
          query({ limit: LIMIT, marker: markers.at(-1), task_detail_status: status ?? undefined }),
      ),
    [session, taskId, status, markers],
    (d) => (FINAL_TASK_STATUSES.includes(d.batchtask.status) ? undefined : 2000),
  );

  const act = (kind: 'stop' | 'retry', targets?: string[]) => {
    setActing(kind);
    setActionResult(undefined);
    return action.run(async () => {
      const r = await call<TargetResults>(
        session,
        'POST',
        `/batchtasks/${enc(taskId)}/${kind}`,
        targets ? { targets } : undefined,
      );
      const failed = r.targets.filter((t) => t.status === 'failure');
      const failures = failed.map((f) => `${f.target}: ${f.error_msg}`).join('; ');
      setActionResult(
        targets
          ? `${kind === 'stop' ? 'Stop' : 'Retry'}: ${targets.length - failed.length} of ${targets.length} accepted` +
              `${failed.length ? ` (${failures})` : ''}.`
          : `${kind === 'stop' ? 'Stopping' : 'Retrying'} the task.`,
      );
      setSelected([]);
      await task.reload();
    });
  };

  if (task.error && !task.data) return <ErrorAlert error={task.error} session={session} />;
  if (!task.data) return <Loader />;
  const t = task.data.batchtask;
  const ended = FINAL_TASK_STATUSES.includes(t.status);
  const rows = task.data.task_details;
  const allSelected = rows.length > 0 && rows.every((r) => selected.includes(r.target));

  return (
    <Stack>
      <Group justify="space-between" wrap="wrap">
        <div>
          <Anchor component={Link} href="/batchtasks" size="sm">
            ← Batch tasks
          </Anchor>
          <Group gap="sm">
            <Title order={2}>{t.task_name}</Title>
            <StatusBadge status={t.status} />
          </Group>
          <Text size="sm" c="dimmed">
            {t.task_id}
          </Text>
        </div>
        <Group>
          <Button
            variant="light"
            color="yellow"
            disabled={ended || t.status === 'Stopping'}
            loading={action.busy && acting === 'stop'}
            onClick={() => void act('stop')}
          >
            Stop
          </Button>
          <Button
            variant="light"
            disabled={!ended}
            loading={action.busy && acting === 'retry'}
            onClick={() => void act('retry')}
          >
            Retry failed
          </Button>
          <Button variant="light" color="red" disabled={!ended} onClick={() => setConfirmDelete(true)}>
            Delete
          </Button>
        </Group>
      </Group>
      {t.status_desc && <Text size="sm">{t.status_desc}</Text>}
      <TaskProgressBar p={t.task_progress} />
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <LabeledValue label="Type">{t.task_type}</LabeledValue>
        <LabeledValue label="Created">{showTime(t.create_time)}</LabeledValue>
        <LabeledValue label="Policy">{t.task_policy ? JSON.stringify(t.task_policy) : '—'}</LabeledValue>
      </SimpleGrid>
      <JsonView value={t.document} label="Document" />
      {actionResult && (
        <Text size="sm" role="status">
          {actionResult}
        </Text>
      )}
      <ErrorAlert error={action.error} session={session} />
      <Group justify="space-between" wrap="wrap">
        <Select
          label="Sub-task status"
          placeholder="Any"
          clearable
          maw={240}
          data={['Waitting', 'Processing', 'Success', 'Fail', 'FailWaitRetry', 'Stopped']}
          value={status}
          onChange={(v) => (setStatus(v), setMarkers([]), setSelected([]))}
        />
        <Group>
          <Button
            size="xs"
            variant="default"
            disabled={!selected.length || ended}
            onClick={() => void act('stop', selected)}
          >
            Stop selected
          </Button>
          <Button
            size="xs"
            variant="default"
            disabled={!selected.length || !ended}
            onClick={() => void act('retry', selected)}
          >
            Retry selected
          </Button>
        </Group>
      </Group>
      <Table.ScrollContainer minWidth={560}>
        <Table aria-label="Sub-tasks">
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={40}>
                <Checkbox
                  aria-label="Select all"
                  checked={allSelected}
                  onChange={() => setSelected(allSelected ? [] : rows.map((r) => r.target))}
                />
              </Table.Th>
              <Table.Th>Target</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Result</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((r) => (
              <Table.Tr key={r.target} data-target={r.target}>
                <Table.Td>
                  <Checkbox
                    aria-label={`Select ${r.target}`}
                    checked={selected.includes(r.target)}
                    onChange={(e) =>
                      setSelected(
                        e.currentTarget.checked ? [...selected, r.target] : selected.filter((x) => x !== r.target),
                      )
                    }
                  />
                </Table.Td>
                <Table.Td>
                  <Anchor component={Link} href={`/devices/${enc(r.target)}`}>
                    {r.target}
                  </Anchor>
                </Table.Td>
                <Table.Td>
                  <StatusBadge status={r.status} />
                </Table.Td>
                <Table.Td style={{ wordBreak: 'break-all' }}>
                  <Text size="xs">{r.error ? `${r.error.error_code}: ${r.error.error_msg}` : (r.output ?? '—')}</Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Pager
        markers={markers}
        page={task.data.page}
        limit={LIMIT}
        shown={rows.length}
        onPage={(m) => (setMarkers(m), setSelected([]))}
      />
      <ConfirmModal
        opened={confirmDelete}
        title="Delete batch task"
        onClose={() => setConfirmDelete(false)}
        onConfirm={async () => {
          await call(session, 'DELETE', `/batchtasks/${enc(taskId)}`);
          navigate('/batchtasks');
        }}
      >
        <Text>Delete this task and its results? Messages it sent stay with their devices.</Text>
      </ConfirmModal>
    </Stack>
  );
}
