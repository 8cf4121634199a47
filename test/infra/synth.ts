import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { FunctionDef } from '../../functions/manifest.ts';
import type { DownlinkFunction } from '../../infra/constructs/downlink-function.ts';
import { DownlinkStack, MANIFEST, type Manifest } from '../../infra/stack.ts';

/** An App that skips esbuild bundling: these tests read templates, not bundles, and run in about a second. */
export const appWithoutBundling = (props: { outdir?: string } = {}): App =>
  new App({ ...props, context: { 'aws:cdk:bundling-stacks': [] } });

export const synthStack = (manifest: Manifest = MANIFEST) => {
  const stack = new DownlinkStack(appWithoutBundling(), 'Downlink', { manifest });
  return { stack, template: Template.fromStack(stack) };
};

/** The template's logical id of a construct's CloudFormation resource. */
export const logicalId = (construct: IConstruct): string => {
  const cfn = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).resolve(cfn.logicalId) as string;
};

/** Logical ids of a manifest function's Lambda and its role. */
export const functionIds = (stack: Stack, name: string) => {
  const fn = (stack.node.findChild(name) as DownlinkFunction).fn;
  return { fn: logicalId(fn), role: logicalId(fn.role!) };
};

type Resource = { Type: string; Properties: Record<string, any> };
export const resources = (template: Template, type: string): Record<string, Resource> =>
  template.findResources(type) as Record<string, Resource>;

/** A manifest with one more function, for behaviour the real manifest does not use yet. */
export const withFunction = (def: FunctionDef): Manifest => ({ ...MANIFEST, functions: [...MANIFEST.functions, def] });
