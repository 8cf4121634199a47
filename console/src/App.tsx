import { AppShell, Burger, Button, Group, NavLink, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useState } from 'react';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter';
import { useHashLocation } from 'wouter/use-hash-location';
import { clearSession, loadSession, type Session } from './api.ts';
import { SessionContext } from './hooks.ts';
import { BatchTaskPage } from './pages/BatchTask.tsx';
import { BatchTasksPage, CreateBatchTaskPage } from './pages/BatchTasks.tsx';
import { DevicePage } from './pages/Device.tsx';
import { DevicesPage } from './pages/Devices.tsx';
import { ProductEditPage } from './pages/ProductEdit.tsx';
import { ProductPage } from './pages/Product.tsx';
import { ProductsPage } from './pages/Products.tsx';
import { SignIn } from './pages/SignIn.tsx';

const SECTIONS = [
  { href: '/devices', label: 'Devices' },
  { href: '/products', label: 'Products' },
  { href: '/batchtasks', label: 'Batch tasks' },
];

function Shell({ session, signOut }: { session: Session; signOut: () => void }) {
  const [opened, { toggle, close }] = useDisclosure();
  const [location] = useLocation();
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 200, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" />
            <Title order={4}>Downlink</Title>
            <Text size="sm" c="dimmed" visibleFrom="xs">
              project {session.project}
            </Text>
          </Group>
          <Button variant="subtle" size="xs" onClick={signOut}>
            Sign out
          </Button>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Sections">
        {SECTIONS.map((s) => (
          <NavLink
            key={s.href}
            component={Link}
            href={s.href}
            label={s.label}
            active={location.startsWith(s.href)}
            onClick={close}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Switch>
          <Route path="/devices" component={DevicesPage} />
          <Route path="/devices/:id">{(p) => <DevicePage deviceId={p.id} />}</Route>
          <Route path="/products" component={ProductsPage} />
          <Route path="/products/new">{() => <ProductEditPage />}</Route>
          <Route path="/products/:id/edit">{(p) => <ProductEditPage productId={p.id} />}</Route>
          <Route path="/products/:id">{(p) => <ProductPage productId={p.id} />}</Route>
          <Route path="/batchtasks" component={BatchTasksPage} />
          <Route path="/batchtasks/new" component={CreateBatchTaskPage} />
          <Route path="/batchtasks/:id">{(p) => <BatchTaskPage taskId={p.id} />}</Route>
          <Route>
            <Redirect to="/devices" />
          </Route>
        </Switch>
      </AppShell.Main>
    </AppShell>
  );
}

export function App() {
  const [session, setSession] = useState(loadSession);
  const signOut = () => {
    clearSession();
    setSession(null);
  };
  return (
    <Router hook={useHashLocation}>
      {session ? (
        <SessionContext.Provider value={{ session, signOut }}>
          <Shell session={session} signOut={signOut} />
        </SessionContext.Provider>
      ) : (
        <SignIn onSignedIn={setSession} />
      )}
    </Router>
  );
}
