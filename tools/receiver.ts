import { parseArgs } from 'node:util';
import { startPushReceiver } from './push-receiver.ts';

const USAGE = `Receive HTTP pushes (CONTRACT.md §7) and print each one: a line with its resource, request_id and
signature check, then the envelope as sent. Answers 200, or 401 to a push whose signature does not check.

  npm run receiver -- [--port 9000] [--token T] [--fail N]

  --port N    port to listen on (default 9000)
  --host H    address to listen on (default 127.0.0.1)
  --token T   the action's token: check X-Downlink-Signature with it
  --fail N    answer 500 to the first N pushes (to watch Downlink retry them)`;

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9000' },
    host: { type: 'string', default: '127.0.0.1' },
    token: { type: 'string' },
    fail: { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const receiver = await startPushReceiver({
  host: values.host,
  port: Number(values.port),
  ...(values.token ? { token: values.token } : {}),
  fail: Number(values.fail),
  onPush: (p) => {
    const check = p.signature === 'unchecked' ? 'not checked (no --token)' : p.signature;
    console.log(
      `POST ${p.path} ${p.envelope.resource} ${p.envelope.event} request_id ${p.envelope.request_id} ` +
        `signature ${check}, answered ${p.answered}`,
    );
    console.log(p.body);
  },
});
console.log(`receiving pushes on ${receiver.url}`);
const stop = () => void receiver.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
