import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

// What the operating system sees of a process tree, read from /proc (Linux; no ss or lsof needed).

const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process ended meanwhile
  }
};

/** State and parent of a live process (`/proc/{pid}/stat`); undefined once it is gone. Zombies count as gone. */
const statOf = (pid: number) => {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return state === 'Z' || state === 'X' ? undefined : { ppid: Number(ppid) };
};

export const isAlive = (pid: number) => statOf(pid) !== undefined;

/** Every live descendant of a process (children, their children...). */
export const descendantsOf = (root: number): number[] => {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc'))
    if (/^\d+$/.test(name)) {
      const s = statOf(Number(name));
      if (s) parents.set(Number(name), s.ppid);
    }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parents)
      if (parent === pid) {
        out.push(child);
        walk(child);
      }
  };
  walk(root);
  return out;
};

/** `0100007F:1F90` (/proc/net/tcp, little-endian words) to `127.0.0.1` / `::` style address and port. */
const decode = (hex: string) => {
  const [addr, port] = hex.split(':') as [string, string];
  const words = addr.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
  const address =
    words.length === 1
      ? words[0]!
          .match(/../g)!
          .map((b) => parseInt(b, 16))
          .join('.')
      : words
          .join('')
          .match(/.{4}/g)!
          .map((g) => parseInt(g, 16).toString(16))
          .join(':')
          .replace(/(^|:)0(:0)+(:|$)/, '::');
  return { address, port: parseInt(port, 16) };
};

/** TCP sockets in LISTEN state: all of them, or only those the given processes hold open. */
export const listeningSockets = (pids?: number[]) => {
  let inodes: Set<string> | undefined;
  if (pids) {
    inodes = new Set();
    for (const pid of pids) {
      let fds: string[] = [];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
          if (m) inodes.add(m[1]!);
        } catch {
          // closed meanwhile
        }
      }
    }
  }
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) =>
    (read(file) ?? '')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[3] === '0A' && (!inodes || inodes.has(f[9]!)))
      .map((f) => decode(f[1]!)),
  );
};
