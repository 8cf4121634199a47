import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, type Access } from '../../functions/manifest.ts';
import { BUNDLING } from '../../infra/constructs/downlink-function.ts';

// Each function's bundle, built as CDK's NodejsFunction builds it (the options infra passes, turned into the
// flags aws-lambda-nodejs gives esbuild), but in memory. A bundle loads on every cold start, so what a function
// does not use must not be in it.

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Upper bounds in KB of the minified bundle (no source map), about 5 % over what was measured (docs/decisions.md
 * "Lean function bundles"). Before each entry named its clients, every bundle was about 930 KB. Powertools Tracer
 * (with aws-xray-sdk-core) and Metrics add about 115 KB to each (docs/decisions.md "Powertools handler stacks"). */
const CEILING_KB: Record<string, number> = {
  'api-authorizer': 655,
  'device-authorizer': 655,
  'create-product': 670,
  'list-products': 670,
  'show-product': 670,
  'update-product': 670,
  'delete-product': 670,
  'add-device': 675,
  'list-devices': 665,
  'show-device': 665,
  'delete-device': 685,
  'create-command': 690,
  'update-properties': 690,
  'query-properties': 690,
  'device-response': 660,
  'create-message': 720,
  'list-messages': 665,
  'show-message': 665,
  'create-batch-task': 735,
  'show-batch-task': 670,
  'list-batch-tasks': 665,
  'stop-batch-task': 725,
  'retry-batch-task': 725,
  'delete-batch-task': 665,
  'create-routing-rule': 690,
  'list-routing-rules': 690,
  'show-routing-rule': 690,
  'update-routing-rule': 690,
  'delete-routing-rule': 690,
  'create-rule-action': 690,
  'list-rule-actions': 690,
  'show-rule-action': 690,
  'update-rule-action': 690,
  'delete-rule-action': 690,
  'batch-chunk': 725,
  'batch-prepare': 690,
  'batch-settle': 690,
  presence: 710,
  'message-sweeper': 690,
  'batch-sweeper': 715,
};

/** The SDK client each optional port brings, and the access that needs it (functions/create-deps.ts Adapters). */
const CLIENTS: { pkg: string; needed: (a: Access) => boolean }[] = [
  { pkg: '@aws-sdk/client-sqs', needed: (a) => Boolean(a.notify) },
  { pkg: '@aws-sdk/client-sfn', needed: (a) => Boolean(a.startBatch || a.watchBatch) },
  { pkg: '@aws-sdk/client-iot-data-plane', needed: (a) => Boolean(a.publish || a.disconnect) },
];

const bundleOf = async (entry: string) => {
  const out = await build({
    entryPoints: [path.join(ROOT, entry)],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    target: BUNDLING.target,
    format: BUNDLING.format,
    mainFields: BUNDLING.mainFields,
    banner: { js: BUNDLING.banner },
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    // bundleAwsSDK: nothing is left external.
    external: [],
    outfile: 'index.mjs',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = out.outputFiles.find((f) => f.path.endsWith('.mjs'))!;
  return { bytes: code.contents.byteLength, packages: packagesIn(out.metafile) };
};

// Each entry is bundled once, whichever test asks first.
const bundles = new Map<string, ReturnType<typeof bundleOf>>();
const bundle = (entry: string) => bundles.get(entry) ?? bundles.set(entry, bundleOf(entry)).get(entry)!;

/** npm packages whose files went into the bundle. */
const packagesIn = (meta: Metafile): Set<string> =>
  new Set(Object.keys(meta.inputs).flatMap((file) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? []));

// esbuild is fast, but 29 bundles of the SDK on a busy 2-core machine are not: the limit catches a hang only.
const BUNDLE_TIMEOUT_MS = 120_000;

describe('function bundles', () => {
  it('has a ceiling for every manifest function, and none for a function that is gone', () => {
    expect(Object.keys(CEILING_KB).sort()).toEqual(FUNCTIONS.map((f) => f.name).sort());
  });

  it.each(FUNCTIONS)(
    '$name holds the SDK clients its access uses, no other, within its ceiling',
    async (def) => {
      const { bytes, packages } = await bundle(def.entry);
      expect(packages).toContain('@aws-sdk/client-dynamodb');
      for (const { pkg, needed } of CLIENTS)
        expect(packages.has(pkg), `${def.name} bundles ${pkg}`).toBe(needed(def.access));
      expect(bytes / 1024).toBeLessThanOrEqual(CEILING_KB[def.name]!);
    },
    BUNDLE_TIMEOUT_MS,
  );

  it.each(['api-authorizer', 'device-authorizer'])(
    '%s bundles no Step Functions, SQS or IoT data client',
    async (name) => {
      const { packages } = await bundle(FUNCTIONS.find((f) => f.name === name)!.entry);
      for (const pkg of ['@aws-sdk/client-sfn', '@aws-sdk/client-sqs', '@aws-sdk/client-iot-data-plane'])
        expect(packages).not.toContain(pkg);
    },
    BUNDLE_TIMEOUT_MS,
  );
});
