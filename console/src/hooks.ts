import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { Session } from './api.ts';

export const SessionContext = createContext<{ session: Session; signOut: () => void } | null>(null);

export const useSession = () => {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSession outside a signed-in page');
  return ctx;
};

/**
 * Loads data for a page and keeps it fresh: `again` says, from what came back, after how many ms to load
 * it again (a PENDING message, a running task), or undefined to stop.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], again?: (data: T) => number | undefined) {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);

  // eslint-disable-next-line react-hooks/exhaustive-deps
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    clearTimeout(timer.current);
    setLoading(true);
    try {
      const d = await load();
      if (mine !== generation.current) return;
      setData(d);
      setError(undefined);
      const wait = again?.(d);
      if (wait !== undefined) timer.current = setTimeout(() => void reload(), wait);
    } catch (e) {
      if (mine === generation.current) setError(e);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
    // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what the load depends on
  }, deps);

  useEffect(() => {
    void reload();
    return () => {
      generation.current++;
      clearTimeout(timer.current);
    };
  }, [reload]);

  return { data, error, loading, reload, setData };
}

/**
 * One user action that calls the API (a submit, a delete): `busy` while it runs, and the error it ended with
 * for an ErrorAlert, cleared when it runs again.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}
