import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DownlinkStack, type DownlinkStackProps } from './stack.ts';

/** Builds the app; tests call this with their own App (and maybe a manifest variant) to run the same checks. */
export const buildApp = (app: App = new App(), props: DownlinkStackProps = {}): { app: App; stack: DownlinkStack } => {
  // Env-agnostic (no account, no region, no lookups) so `cdk synth` runs offline with no credentials.
  const stack = new DownlinkStack(app, 'Downlink', props);
  // cdk-nag 3 is a policy validation plugin: findings go to the validation report and errors fail synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
};

// Synthesize only when run as the CDK app (cdk.json), not when a test imports buildApp.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) buildApp().app.synth();
