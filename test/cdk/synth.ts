/**
 * Synthesizes the keyheal stack the way cdk/bin/keyheal.ts does, into a temporary directory, and
 * hands back what the tests inspect: the template, the assembly directory and cdk-nag's report.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App, type PolicyValidationPluginReport } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { type KeyhealConfigInput, parseConfig } from "../../cdk/config.ts";
import { KeyhealStack } from "../../cdk/keyheal-stack.ts";

export interface SynthOptions {
  config?: KeyhealConfigInput;
  /** The console build; a directory without index.html means "not built". */
  consoleDir?: string;
  /** Run esbuild for every function (slow); otherwise CDK stages placeholder assets. */
  bundle?: boolean;
}

export interface Synthesized {
  app: App;
  stack: KeyhealStack;
  template: Template;
  /** The raw template, for whole-document checks. */
  json: Record<string, unknown>;
  assemblyDir: string;
  nag: PolicyValidationPluginReport;
}

export function synthKeyheal(options: SynthOptions = {}): Synthesized {
  const assemblyDir = mkdtempSync(path.join(tmpdir(), "keyheal-cdk-"));
  const app = new App({
    outdir: assemblyDir,
    // An empty list turns bundling off for every stack: assets become placeholders.
    context: options.bundle ? {} : { "aws:cdk:bundling-stacks": [] },
  });
  const stack = new KeyhealStack(app, "Keyheal", {
    config: parseConfig(options.config ?? {}),
    ...(options.consoleDir ? { consoleDir: options.consoleDir } : {}),
  });
  app.synth();
  const template = Template.fromStack(stack);
  const nag = new AwsSolutionsChecks(app).validateScope(app);
  return { app, stack, template, json: template.toJSON(), assemblyDir, nag };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** Resources of a type, by logical id. */
export function resourcesOf(json: Record<string, unknown>, type: string): Resources {
  const all = json.Resources as Resources;
  return Object.fromEntries(Object.entries(all).filter(([, resource]) => resource.Type === type));
}

/** `{ "Fn::GetAtt": [id, "Arn"] }` → id. */
export function getAttId(value: unknown): string | undefined {
  const getAtt = (value as { "Fn::GetAtt"?: [string, string] } | undefined)?.["Fn::GetAtt"];
  return getAtt?.[0];
}

/** `{ Ref: id }` → id. */
export function refId(value: unknown): string | undefined {
  return (value as { Ref?: string } | undefined)?.Ref;
}

/** A readable list of cdk-nag violations, for failure messages. */
export function describeViolations(report: PolicyValidationPluginReport): string {
  return report.violations
    .map(
      (v) =>
        `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(", ")} (${v.description.slice(0, 80)})`,
    )
    .join("\n");
}
