import { Alert, Badge, Button, Code, Group, Modal, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { ApiError, explain, type Page, type Session } from '../api.ts';
import { useAction, useSession } from '../hooks.ts';

const STATUS_COLORS: Record<string, string> = {
  ONLINE: 'green',
  OFFLINE: 'gray',
  INACTIVE: 'yellow',
  PENDING: 'blue',
  DELIVERED: 'green',
  FAILED: 'red',
  TIMEOUT: 'orange',
  Initializing: 'blue',
  Waitting: 'blue',
  Processing: 'blue',
  Success: 'green',
  Fail: 'red',
  PartialSuccess: 'orange',
  Stopping: 'yellow',
  Stopped: 'gray',
  FailWaitRetry: 'yellow',
};

export const StatusBadge = ({ status }: { status: string }) => (
  <Badge color={STATUS_COLORS[status] ?? 'gray'} variant="light" data-status={status}>
    {status}
  </Badge>
);

/** An API error in plain words, with its status and code for those who look them up. */
export function ErrorAlert({ error, session, title }: { error: unknown; session?: Session; title?: string }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : new ApiError(0, 'ERROR', String((error as Error)?.message ?? error));
  return (
    <Alert color="red" title={title ?? 'The request failed'} role="alert">
      <Text size="sm">{explain(e, session)}</Text>
      {e.status > 0 && (
        <Text size="xs" c="dimmed" mt={4}>
          HTTP {e.status} · {e.code} · {e.message}
        </Text>
      )}
    </Alert>
  );
}

export const JsonView = ({ value, label }: { value: unknown; label?: string }) => (
  <Code block aria-label={label ?? 'JSON'} style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
    {typeof value === 'string' ? value : JSON.stringify(value, null, 2)}
  </Code>
);

/**
 * Previous / next over the API's marker paging: the markers of the pages seen so far make "previous" work.
 */
export function Pager({
  markers,
  page,
  limit,
  shown,
  onPage,
}: {
  markers: string[];
  page: Page | undefined;
  limit: number;
  shown: number;
  onPage: (markers: string[]) => void;
}) {
  const first = markers.length === 0;
  // Every page before this one was full: what has been seen is their rows and this page's.
  const last = !page?.marker || markers.length * limit + shown >= page.count;
  return (
    <Group justify="space-between" mt="sm">
      <Text size="sm" c="dimmed">
        {page ? `${page.count} in all` : ''}
      </Text>
      <Group gap="xs">
        <Button variant="default" size="xs" disabled={first} onClick={() => onPage(markers.slice(0, -1))}>
          Previous
        </Button>
        <Button
          variant="default"
          size="xs"
          disabled={last}
          onClick={() => page?.marker && onPage([...markers, page.marker])}
        >
          Next
        </Button>
      </Group>
    </Group>
  );
}

export const LabeledValue = ({ label, children }: { label: string; children: ReactNode }) => (
  <div>
    <Text size="xs" c="dimmed">
      {label}
    </Text>
    <Text size="sm" component="div">
      {children}
    </Text>
  </div>
);

/** Asks before an action that cannot be undone (a delete), showing why it failed if it does. */
export function ConfirmModal({
  opened,
  title,
  children,
  confirmLabel = 'Delete',
  onConfirm,
  onClose,
}: {
  opened: boolean;
  title: string;
  children: ReactNode;
  confirmLabel?: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const { session } = useSession();
  const action = useAction();
  const close = () => (action.setError(undefined), onClose());
  return (
    <Modal opened={opened} onClose={close} title={title}>
      <Stack>
        {children}
        <ErrorAlert error={action.error} session={session} />
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button color="red" loading={action.busy} onClick={() => void action.run(onConfirm)}>
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
