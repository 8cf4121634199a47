import { Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { call, saveSession, type Session } from '../api.ts';
import { ErrorAlert } from '../components/common.tsx';
import { useAction } from '../hooks.ts';

/** A token and a project, checked by one real call before the console opens; kept in this tab only. */
export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [token, setToken] = useState('');
  const [project, setProject] = useState('demo');
  const action = useAction();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const session = { token: token.trim(), project: project.trim() };
    void action.run(async () => {
      await call(session, 'GET', '/devices?limit=1');
      saveSession(session);
      onSignedIn(session);
    });
  };

  return (
    <Center mih="100vh" p="md">
      <Paper withBorder p="lg" w={400} maw="100%" component="form" onSubmit={submit}>
        <Stack>
          <Title order={2}>Downlink console</Title>
          <Text size="sm" c="dimmed">
            Sign in with an API token (`npm run tokens`, or the one `npm start` prints) and the project it grants. Both
            are kept in this browser tab only.
          </Text>
          <PasswordInput
            label="API token"
            required
            value={token}
            onChange={(e) => setToken(e.currentTarget.value)}
            autoComplete="off"
          />
          <TextInput label="Project" required value={project} onChange={(e) => setProject(e.currentTarget.value)} />
          <ErrorAlert error={action.error} session={{ token, project }} title="Sign-in failed" />
          <Button type="submit" loading={action.busy}>
            Sign in
          </Button>
        </Stack>
      </Paper>
    </Center>
  );
}
