import { describe, expect, it } from "vitest";
import { hintFor } from "../../../lib/failures/causes.ts";
import { OperationFailedError } from "../../../lib/failures/errors.ts";
import {
  ConnectFailedError,
  ConnectionLostError,
  HostKeyMismatchError,
} from "../../../lib/ssh/errors.ts";
import { readCatchOutput, TASK_ERRORS, toTaskError } from "../../../lib/workflows/task-errors.ts";

const failed = (
  code: "CONNECTION_REFUSED" | "CONNECTION_LOST" | "HOST_KEY_MISMATCH",
  cause: Error,
) => new OperationFailedError(code, "handshake", "DETECT", { cause });

describe("toTaskError", () => {
  it("routes transient, unreachable and final failures to their error names", () => {
    expect(
      toTaskError(failed("CONNECTION_LOST", new ConnectionLostError("h")), "DETECT").name,
    ).toBe(TASK_ERRORS.TRANSIENT);
    expect(
      toTaskError(
        failed("CONNECTION_REFUSED", new ConnectFailedError("h", 22, "ECONNREFUSED")),
        "DETECT",
      ).name,
    ).toBe(TASK_ERRORS.UNREACHABLE);
    expect(
      toTaskError(failed("HOST_KEY_MISMATCH", new HostKeyMismatchError("h", "a", "b")), "DETECT")
        .name,
    ).toBe(TASK_ERRORS.FAILED);
  });

  it("waits for sshd only on a freshly started instance", () => {
    const error = failed("CONNECTION_REFUSED", new ConnectFailedError("h", 22, "ECONNREFUSED"));
    expect(toTaskError(error, "DETECT", true).name).toBe(TASK_ERRORS.SSHD_NOT_READY);
  });

  it("an unexpected error becomes INTERNAL, named Keyheal.Failed", () => {
    const error = toTaskError(new TypeError("x is undefined"), "REPLACE");
    expect(error.name).toBe(TASK_ERRORS.FAILED);
    expect(error.failure).toMatchObject({ cause: "INTERNAL", operation: "REPLACE" });
  });
});

describe("readCatchOutput reads a Catch the same way from both runtimes", () => {
  const task = toTaskError(
    failed("HOST_KEY_MISMATCH", new HostKeyMismatchError("h", "SHA256:a", "SHA256:b")),
    "DETECT",
  );

  it("the local interpreter: Cause is the error message (our JSON)", () => {
    const read = readCatchOutput({ Error: task.name, Cause: task.message }, "DETECT");
    expect(read).toMatchObject({
      cause: "HOST_KEY_MISMATCH",
      operation: "DETECT",
      hint: hintFor("HOST_KEY_MISMATCH"),
    });
    expect(read.message).toContain("SHA256:b");
  });

  it("Step Functions over Lambda: Cause is a JSON string wrapping errorMessage", () => {
    const lambdaCause = JSON.stringify({
      errorType: task.name,
      errorMessage: task.message,
      trace: ["at x"],
    });
    expect(readCatchOutput({ Error: task.name, Cause: lambdaCause }, "DETECT")).toMatchObject({
      cause: "HOST_KEY_MISMATCH",
      operation: "DETECT",
    });
  });

  it("errors keyheal did not raise: States.Timeout is TIMEOUT, plain text is INTERNAL with its text", () => {
    expect(readCatchOutput({ Error: "States.Timeout", Cause: "" }, "REPLACE")).toMatchObject({
      cause: "TIMEOUT",
      operation: "REPLACE",
    });
    const crash = readCatchOutput(
      { Error: "Runtime.ExitError", Cause: "process exited" },
      "RESOLVE",
    );
    expect(crash).toMatchObject({ cause: "INTERNAL", operation: "RESOLVE" });
    expect(crash.message).toContain("process exited");
  });

  it("garbage is still a record, never a crash", () => {
    expect(readCatchOutput(undefined, "DETECT").cause).toBe("INTERNAL");
    expect(readCatchOutput({ Error: 42, Cause: { cause: "NOT_A_CAUSE" } }, "DETECT").cause).toBe(
      "INTERNAL",
    );
    expect(readCatchOutput({ Error: "x", Cause: '{"cause":"NOPE"}' }, "DETECT").cause).toBe(
      "INTERNAL",
    );
  });
});

describe("TaskError keeps the error it stands for", () => {
  it("as Error.cause, for a device failure and for an unexpected error alike", () => {
    const device = failed("CONNECTION_LOST", new ConnectionLostError("h"));
    expect(toTaskError(device, "DETECT").cause).toBe(device);
    const unexpected = new TypeError("x is undefined");
    expect(toTaskError(unexpected, "REPLACE").cause).toBe(unexpected);
  });
});

describe("a store or AWS call failing for a moment is transient", () => {
  it.each([
    Object.assign(new Error("connect ECONNREFUSED /data/store/dynamodb.sock"), {
      code: "ECONNREFUSED",
    }),
    Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
    Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }),
    Object.assign(new Error("retry me"), { $retryable: { throttling: false } }),
  ])("%s is Keyheal.Transient, so the workflow's Retry absorbs it", (error) => {
    expect(toTaskError(error, "REPLACE").name).toBe(TASK_ERRORS.TRANSIENT);
  });

  it("any other error before a device conversation is Keyheal.Failed", () => {
    expect(toTaskError(new Error("no such device"), "REPLACE").name).toBe(TASK_ERRORS.FAILED);
  });
});
