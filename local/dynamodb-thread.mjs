// dynalite on a thread of its own, so its CPU is not taken from the handlers' event loop (2 cores here).
// Plain JavaScript: a worker does not inherit the TypeScript loader of every host (vitest runs its own).
import dynalite from 'dynalite';
import { parentPort, workerData } from 'node:worker_threads';

const { host, port, path } = workerData;
const server = dynalite({ ...(path ? { path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.once('error', (e) => parentPort.postMessage({ error: e.message }));
server.listen(port, host, () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => {
  if (m === 'stop') server.close(() => parentPort.postMessage({ stopped: true }));
});
