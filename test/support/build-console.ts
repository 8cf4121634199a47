import { ensureConsoleBuilt } from '../../local/console-site.ts';

/** vitest globalSetup: the console is built once, before any test file starts a runtime that serves it. */
export default async function setup() {
  await ensureConsoleBuilt();
}
