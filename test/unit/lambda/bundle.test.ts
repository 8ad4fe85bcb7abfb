import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import type { DeviceStore } from "../../../lib/devices/types.ts";
import { workflowTask } from "../../../lib/lambda/bundle.ts";
import type { WorkflowDeps } from "../../../lib/workflows/deps.ts";
import { readCatchOutput, TASK_ERRORS, TaskError } from "../../../lib/workflows/task-errors.ts";
import { releaseLease } from "../../../lib/workflows/tasks/lease.ts";
import { listDevices } from "../../../lib/workflows/tasks/rotate.ts";

/** A device store whose every call fails the way a broken table would. */
const brokenStore = new Proxy({} as DeviceStore, {
  get: () => () => Promise.reject(new TypeError("the store is broken")),
});

function deps(): WorkflowDeps {
  return {
    devices: brokenStore,
    // Never reached: ListDevices reads the devices before it writes a manifest.
    manifests: { write: () => Promise.reject(new Error("no manifest expected")) },
    logger: new Logger({ serviceName: "keyheal-test", logLevel: "SILENT" }),
    metrics: new Metrics({ namespace: "keyheal-test" }),
  } as unknown as WorkflowDeps;
}

async function failureOf(handler: (event: unknown, context: Context) => Promise<unknown>) {
  const context = { deps: deps() } as unknown as Context;
  const error = await handler({ deviceId: "dev-1", owner: "run-1", runId: "run-1" }, context).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TaskError);
  return error as TaskError;
}

describe("workflowTask maps an error the task left unmapped", () => {
  it("with the task's own operation: a rotation's ListDevices fails as ROTATE, not DETECT", async () => {
    const error = await failureOf(workflowTask("ListDevices", listDevices));
    expect(error.name).toBe(TASK_ERRORS.FAILED);
    expect(error.failure).toMatchObject({ cause: "INTERNAL", operation: "ROTATE" });
  });

  it("keeps the original error as Error.cause", async () => {
    const error = await failureOf(workflowTask("ListDevices", listDevices));
    expect(error.cause).toBeInstanceOf(TypeError);
    expect((error.cause as Error).message).toBe("the store is broken");
  });

  it("leaves a shared task's operation to the workflow: a resolve's lease failure is a RESOLVE", async () => {
    const error = await failureOf(workflowTask("ReleaseLease", releaseLease));
    expect(error.failure.operation).toBeUndefined();
    const recorded = readCatchOutput({ Error: error.name, Cause: error.message }, "RESOLVE");
    expect(recorded).toMatchObject({ cause: "INTERNAL", operation: "RESOLVE" });
  });
});
