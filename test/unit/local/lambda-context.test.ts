import { spawnSync } from "node:child_process";
import { setTimeout } from "node:timers/promises";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { afterEach, describe, expect, it, vi } from "vitest";
import { workflowTask } from "../../../lib/lambda/bundle.ts";
import { logger } from "../../../lib/lambda/powertools.ts";
import { invokeLocally, lambdaContext } from "../../../lib/local/lambda-context.ts";
import type { WorkflowDeps } from "../../../lib/workflows/deps.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

/** Every JSON log line written to stdout while `work` runs. */
async function logLinesOf(work: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const written: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, "write").mockImplementation((chunk, ...rest) => {
    if (typeof chunk === "string" && chunk.startsWith("{")) {
      written.push(chunk);
      return true;
    }
    return write(chunk, ...(rest as []));
  });
  await work();
  return written.flatMap((chunk) => chunk.trim().split("\n")).map((line) => JSON.parse(line));
}

describe("local task invocations", () => {
  it("log under their own device and run when they run at once, as concurrent Lambda invocations do", async () => {
    // The runtime's own logger: the one the bundle gives each invocation's Lambda context to.
    const deps = {
      logger,
      metrics: new Metrics({ namespace: "keyheal-test", serviceName: "keyheal-test" }),
    } as unknown as WorkflowDeps;
    // The task logs after a pause, by which time the other invocation has started.
    const task = async (d: WorkflowDeps, input: { deviceId: string; pauseMs: number }) => {
      await setTimeout(input.pauseMs);
      d.logger.info("checked", { expectedDevice: input.deviceId });
      return input.deviceId;
    };
    const handler = workflowTask("Detect", task as never);
    const lines = await logLinesOf(() =>
      Promise.all(
        [
          { deviceId: "dev-a", runId: "run-a", pauseMs: 40 },
          { deviceId: "dev-b", runId: "run-b", pauseMs: 5 },
          { deviceId: "dev-c", runId: "run-c", pauseMs: 20 },
        ].map((input) => invokeLocally(handler, input, lambdaContext("Detect", deps))),
      ),
    );
    const checked = lines.filter((line) => line.message === "checked");
    expect(checked).toHaveLength(3);
    for (const line of checked) {
      expect(line.deviceId).toBe(line.expectedDevice);
      expect(line.runId).toBe(String(line.expectedDevice).replace("dev-", "run-"));
    }
    // Each invocation's Lambda context is its own too.
    expect(new Set(checked.map((line) => line.function_request_id)).size).toBe(3);
  });
});

describe("a process started from one that ran local tasks", () => {
  it("starts and logs though it inherits AWS_LAMBDA_MAX_CONCURRENCY without an InvokeStore", () => {
    const powertools = new URL("../../../lib/lambda/powertools.ts", import.meta.url).href;
    const child = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { logger } = await import(${JSON.stringify(powertools)}); logger.info("started");`,
      ],
      { env: { ...process.env, AWS_LAMBDA_MAX_CONCURRENCY: "64" }, encoding: "utf8" },
    );
    expect(child.stderr).not.toMatch(/InvokeStore/);
    expect(child.status).toBe(0);
    expect(child.stdout).toContain('"message":"started"');
  });
});
