// dynalite on a thread of its own, so its CPU is not taken from the handlers' event loop (2 cores here).
// Plain JavaScript: a worker does not inherit the TypeScript loader of every host (vitest runs its own).
import dynalite from 'dynalite';
import { inject } from 'light-my-request';
import { createRequire } from 'node:module';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';

// dynalite 4.0.0 ends the streams over its LevelDB iterators with `iterator.return()`, which abstract-level
// iterators do not have (they have close()): every Query and Scan left its iterator open, and an open iterator
// keeps a snapshot of the store, so every value ever written stayed in memory (deleted ones included) or, on
// disk, pinned in LevelDB's memtables. Giving the iterators `return` closes them (docs/decisions.md, memory).
const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
const { AbstractIterator } = fromDynalite('abstract-level');
const CommonIterator = Object.getPrototypeOf(AbstractIterator.prototype);
if (typeof CommonIterator.return !== 'function')
  CommonIterator.return = function () {
    return this.close();
  };

// For measurements (bench/memory.ts, a test): the thread's memory after full collections. A Buffer's memory
// is given back a collection or so after the one that finds it unused, so collect until nothing more comes back.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const collect = async () => {
  for (let i = 0, last = Infinity; i < 10; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
    const now = getHeapStatistics().external_memory;
    if (now >= last) return;
    last = now;
  }
};

const { host, port, path } = workerData;
const server = dynalite({ ...(path ? { path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.once('error', (e) => parentPort.postMessage({ error: e.message }));
server.listen(port, host, () => parentPort.postMessage({ port: server.address().port }));
// Requests the runtime's SDK clients send in-process (local/in-process-transport.ts), given to the same handler;
// the answers of one turn go back in one message.
let answers = [];
const answer = async ({ id, request }) => {
  // A Buffer arrives as a plain Uint8Array, which light-my-request would serialise as JSON.
  const { payload } = request;
  if (payload instanceof Uint8Array) request.payload = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  let response;
  try {
    const res = await inject(server.listeners('request')[0], request);
    const headers = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = String(v);
    // Copied to bytes of their own: a posted view clones its whole ArrayBuffer (a Buffer's is often an 8 KB pool).
    response = { statusCode: res.statusCode, headers, body: new Uint8Array(res.rawPayload) };
  } catch (e) {
    // As a server failing a request would: the SDK sees a 500 and retries, the caller never waits forever.
    const body = Buffer.from(JSON.stringify({ __type: 'InternalServerError', message: String(e) }));
    response = { statusCode: 500, headers: { 'content-type': 'application/x-amz-json-1.0' }, body };
  }
  if (answers.push({ id, response }) === 1)
    setImmediate(() => {
      parentPort.postMessage({ answers });
      answers = [];
    });
};
parentPort.on('message', (m) => {
  if (m === 'stop') server.close(() => parentPort.postMessage({ stopped: true }));
  else if (m === 'gc') void collect().then(() => parentPort.postMessage({ collected: true }));
  else for (const r of m?.requests ?? []) void answer(r);
});
