import { fork } from 'node:child_process';

/**
 * A TypeScript module in its own node process (same node, through tsx), driven by request/answer over the
 * IPC channel. The answer to an order is the child's next message, so questions are asked one at a time;
 * a message with an `event` key is not an answer but goes to `onEvent` (what the child reports unasked).
 */
export const forkTs = (module: URL, onEvent?: (event: unknown) => void) => {
  const child = fork(module.pathname, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  if (onEvent) child.on('message', (m: { event?: unknown }) => m.event !== undefined && onEvent(m.event));
  const next = <T>(timeoutMs: number, order?: object) =>
    new Promise<T>((resolve, reject) => {
      const done = (e: Error | undefined, answer?: T) => {
        clearTimeout(timer);
        child.off('message', onMessage).off('exit', onExit);
        if (e) reject(e);
        else resolve(answer!);
      };
      const onMessage = (m: T & { event?: unknown }) => {
        if (!onEvent || m.event === undefined) done(undefined, m);
      };
      const onExit = (code: number | null) => done(new Error(`${module.pathname} exited (${code})`));
      const timer = setTimeout(
        () => done(new Error(`${module.pathname} gave no answer in ${timeoutMs} ms`)),
        timeoutMs,
      );
      child.on('message', onMessage).on('exit', onExit);
      if (order) child.send(order);
    });
  let asking = Promise.resolve();
  const ask = <T>(order: object, timeoutMs: number) => {
    const answer = asking.then(() => next<T>(timeoutMs, order));
    asking = answer.then(
      () => undefined,
      () => undefined,
    );
    return answer;
  };
  return {
    /** The child's next message, e.g. the one it sends when ready. */
    next: <T>(timeoutMs: number) => next<T>(timeoutMs),
    ask,
    /** Asks it to finish with `order`; kills it if it does not exit within `timeoutMs`. */
    stop: async (order: object, timeoutMs: number) => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send(order);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
};
