/**
 * What the stack tests share: one synthesis with every function bundled (or the assembly a
 * developer points KEYHEAL_STACK_ASSEMBLY at, to iterate without re-bundling), deployed onto
 * this machine, and the calls an operator would make.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { expect } from "vitest";
import { synthKeyheal } from "../cdk/synth.ts";
import { eventually } from "../harness/local-runtime.ts";
import { deployLocally, type LocalStack } from "./deploy.ts";
import type { Template } from "./template.ts";

/** The settings the stack is synthesized with: a managed tag and keyheal's SSH source. */
export const STACK_CONFIG = {
  managedTagKey: "keyheal-managed",
  managementCidr: "192.0.2.10/32",
};

export async function deployTestStack(dynamoEndpoint: string): Promise<LocalStack> {
  const reuse = process.env.KEYHEAL_STACK_ASSEMBLY;
  let template: Template;
  let assemblyDir: string;
  if (reuse) {
    assemblyDir = reuse;
    template = JSON.parse(readFileSync(path.join(reuse, "Keyheal.template.json"), "utf8"));
  } else {
    const synthesized = synthKeyheal({ bundle: true, config: STACK_CONFIG });
    template = synthesized.json as Template;
    assemblyDir = synthesized.assemblyDir;
  }
  return deployLocally({ template, assemblyDir, dynamoEndpoint });
}

/** An API call that must succeed with `status`; the body, typed. */
export async function call<T>(
  stack: LocalStack,
  method: string,
  target: string,
  body: unknown,
  status: number,
): Promise<T> {
  const response = await stack.api.request(method, target, body);
  expect(response, `${method} ${target}`).toMatchObject({ status });
  return response.body as T;
}

export interface RunBody {
  id: string;
  status: string;
  workflow: string;
  steps: Array<{ name: string; status: string; error?: string }>;
  progress?: { total: number; done: number; failed: number };
  error?: string;
}

/** Polls `GET /runs/{id}` until the run has ended. */
export function endedRun(stack: LocalStack, runId: string, timeoutMs = 60_000): Promise<RunBody> {
  return eventually(
    `run ${runId} to end`,
    async () => {
      const run = await call<RunBody>(
        stack,
        "GET",
        `/runs/${encodeURIComponent(runId)}`,
        undefined,
        200,
      );
      return run.status !== "RUNNING" && run;
    },
    timeoutMs,
    250,
  );
}
