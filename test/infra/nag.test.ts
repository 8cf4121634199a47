import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.ts';
import type { Manifest } from '../../infra/stack.ts';
import { appWithoutBundling } from './synth.ts';

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

interface Report {
  pluginReports: { pluginName: string; violations: { ruleName: string; severity: string }[] }[];
}

/** Synthesizes the app as infra/app.ts builds it (cdk-nag registered) and returns cdk-nag's error findings. */
const nagErrors = (manifest?: Manifest, tamper?: (stack: ReturnType<typeof buildApp>['stack']) => void) => {
  const outdir = mkdtempSync(path.join(tmpdir(), 'downlink-nag-'));
  outdirs.push(outdir);
  const { app, stack } = buildApp(appWithoutBundling({ outdir }), manifest ? { manifest } : {});
  tamper?.(stack);
  // Under test, CDK throws on validation errors with the report in the message; the file has the same findings.
  app.synth();
  const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as Report;
  return report.pluginReports.flatMap((r) => r.violations.filter((v) => v.severity === 'error').map((v) => v.ruleName));
};

// A whole synthesis with cdk-nag is CPU work that takes 15 s on an idle 2-core machine and twice that on a
// busy one: the limit is there to catch a hang, not to time it.
const SYNTH_TIMEOUT_MS = 180_000;

describe('cdk-nag AwsSolutions', () => {
  it('reports no errors on the stack built from the manifest', { timeout: SYNTH_TIMEOUT_MS }, () => {
    expect(nagErrors()).toEqual([]);
  });

  it('fails synthesis on a finding nobody acknowledged', { timeout: SYNTH_TIMEOUT_MS }, () => {
    expect(() => nagErrors(undefined, (stack) => new Queue(stack, 'Unguarded'))).toThrow(/AwsSolutions-SQS3/);
  });
});
