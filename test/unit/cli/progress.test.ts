/**
 * Live progress and confirmation, which only happen on a terminal: the CLI runs in this process
 * with streams that say they are TTYs, against a recording HTTP server on 127.0.0.1 whose
 * answers move on with each poll.
 */
import { tmpdir } from "node:os";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { CliInput, CliIo } from "../../../lib/cli/io.ts";
import { main } from "../../../lib/cli/main.ts";
import { countsLine, nextPollDelay, progressBar, rateLine } from "../../../lib/cli/wait.ts";
import { type FakeApi, type Handler, runRecord, startFakeApi } from "./fake-api.ts";

vi.setConfig({ testTimeout: 20_000 });

const apis: FakeApi[] = [];
afterAll(async () => {
  await Promise.all(apis.map((api) => api.close()));
});

async function api(handler: Handler): Promise<FakeApi> {
  const started = await startFakeApi(handler);
  apis.push(started);
  return started;
}

/** Runs `keyheal args…` in this process; `tty` makes stdin and stderr terminals. */
async function cli(target: FakeApi, args: string[], options: { tty: boolean; stdin?: string }) {
  const out: string[] = [];
  const err: string[] = [];
  const stdin = new PassThrough() as PassThrough & CliInput;
  stdin.isTTY = options.tty;
  stdin.end(options.stdin ?? "");
  const io: CliIo = {
    stdin,
    stdout: { write: (text: string) => out.push(text), isTTY: options.tty },
    stderr: { write: (text: string) => err.push(text), isTTY: options.tty },
    cwd: tmpdir(),
    env: { dataDir: target.dataDir },
    now: () => new Date(),
  };
  const code = await main(args, io);
  return { code, stdout: out.join(""), stderr: err.join("") };
}

/** The progress lines drawn, without the carriage returns and line clears between them. */
function lines(stderr: string): string[] {
  return stderr
    .split("\r\u001b[2K")
    .map((line) => line.trim())
    .filter(Boolean);
}

describe("the progress line", () => {
  it("draws a bar of done out of total", () => {
    expect(progressBar(0, 8, 8)).toBe("░░░░░░░░");
    expect(progressBar(4, 8, 8)).toBe("████░░░░");
    expect(progressBar(9, 8, 8)).toBe("████████");
    expect(progressBar(3, 0, 4)).toBe("░░░░");
    expect(countsLine("installed", { ok: 3, failed: 1, ended: 4, total: 8 })).toBe(
      `${progressBar(4, 8)} installed 3/8 · 1 failed`,
    );
    expect(countsLine("resolved", { ok: 2, failed: 0, ended: 2, total: 2 })).toBe(
      `${progressBar(2, 2)} resolved 2/2`,
    );
  });
});

describe("issue 12.1: a rotation's rate and ETA", () => {
  it("shows devices per second since the fan-out was first seen, and the time left at that rate", () => {
    const first = { at: 10_000, done: 0 };
    expect(rateLine(first, { at: 10_000, done: 0 }, 1000)).toBe("");
    expect(rateLine(first, { at: 14_000, done: 0 }, 1000)).toBe("");
    expect(rateLine(first, { at: 14_000, done: 50 }, 1000)).toBe("13 devices/s · ETA 1m16s");
    expect(rateLine({ at: 0, done: 10 }, { at: 8_000, done: 14 }, 20)).toBe(
      "0.5 devices/s · ETA 12.0s",
    );
    expect(rateLine(first, { at: 20_000, done: 1000 }, 1000)).toBe("100 devices/s");
  });
});

describe("issue 12: --wait polls sooner when a rotation's end is near", () => {
  it("keeps the usual delay far from the end, waits about the time left near it, 200 ms once every device ended", () => {
    const first = { at: 0, done: 0 };
    // 10 devices/s, 500 left: 50 s away.
    expect(nextPollDelay(1_000, first, { at: 10_000, done: 100 }, 600)).toBe(1_000);
    // 10 devices/s, 4 left: 400 ms away.
    expect(nextPollDelay(1_000, first, { at: 10_000, done: 100 }, 104)).toBe(400);
    // 1 left at 10 devices/s: never below 200 ms.
    expect(nextPollDelay(1_000, first, { at: 10_000, done: 100 }, 101)).toBe(200);
    // Every device ended: only the run's last states are left.
    expect(nextPollDelay(1_000, first, { at: 10_000, done: 104 }, 104)).toBe(200);
    // The first polls are quicker than that already; no rate yet, or no fan-out, changes nothing.
    expect(nextPollDelay(150, first, { at: 10_000, done: 104 }, 104)).toBe(150);
    expect(nextPollDelay(1_000, undefined, { at: 10_000, done: 10 }, 104)).toBe(1_000);
    expect(nextPollDelay(1_000, first, { at: 10_000, done: 0 }, 104)).toBe(1_000);
    expect(nextPollDelay(1_000, first, { at: 10_000, done: 0 }, 0)).toBe(1_000);
  });
});

describe.concurrent("live progress on a terminal", () => {
  /** A rotation whose fan-out advances one step per poll. */
  function rotation(): Handler {
    const states = [
      { status: "RUNNING", progress: null },
      { status: "RUNNING", progress: { total: 8, done: 0, failed: 0 } },
      { status: "RUNNING", progress: { total: 8, done: 4, failed: 1 } },
      { status: "SUCCEEDED", progress: { total: 8, done: 8, failed: 1 } },
    ];
    let poll = 0;
    return (request) => {
      if (request.path === "/keys/rotate") return { status: 202, body: { runId: "rot-1" } };
      if (request.path !== "/runs/rot-1") return undefined;
      const state = states[Math.min(poll, states.length - 1)];
      poll += 1;
      return {
        body: {
          ...runRecord("rot-1", state?.status ?? "RUNNING", null),
          ...state,
          workflow: "rotate",
        },
      };
    };
  }

  it("keys rotate --wait shows devices installed and failed, and --json stays clean", async () => {
    const target = await api(rotation());
    const result = await cli(target, ["keys", "rotate", "--wait", "--json"], { tty: true });
    expect(result.code).toBe(0);
    const drawn = lines(result.stderr);
    expect(drawn.some((line) => line.includes("rotate rot-1: RUNNING"))).toBe(true);
    expect(drawn).toContainEqual(
      expect.stringContaining(`rotate: ${progressBar(4, 8)} installed 3/8 · 1 failed · `),
    );
    // The line is cleared at the end: nothing of it stays on the terminal.
    expect(result.stderr.endsWith("\r\u001b[2K")).toBe(true);
    const printed = JSON.parse(result.stdout);
    expect(printed.items[0]).toMatchObject({
      id: "rot-1",
      status: "SUCCEEDED",
      progress: { total: 8, done: 8, failed: 1 },
    });
  });

  it("is silent when stderr is not a terminal", async () => {
    const target = await api(rotation());
    const result = await cli(target, ["keys", "rotate", "--wait"], { tty: false });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/rot-1\s+rotate\s+-\s+SUCCEEDED/);
  });

  it("resolve --wait shows devices resolved and failed from the job", async () => {
    const job = (succeeded: number, failed: number, status = "RUNNING") => ({
      id: "job-1",
      kind: "resolve",
      status,
      total: 5,
      succeeded,
      failed,
      running: 5 - succeeded - failed,
      createdAt: "2025-06-01T12:00:00.000Z",
      runs: [],
    });
    const ids = ["d1", "d2", "d3", "d4", "d5"];
    const onTerminal = await api((request) => {
      if (request.path === "/devices/resolve") {
        return {
          status: 202,
          body: { jobId: "job-1", runs: ids.map((id) => ({ deviceId: id, runId: `r-${id}` })) },
        };
      }
      if (request.path === "/jobs/job-1") {
        const polls = onTerminal.requests.filter((each) => each.path === "/jobs/job-1").length;
        return { body: [job(0, 0), job(2, 1), job(4, 1, "FAILED")][Math.min(polls - 1, 2)] };
      }
      const id = request.path.replace("/runs/r-", "");
      return { body: runRecord(`r-${id}`, id === "d3" ? "FAILED" : "SUCCEEDED", id) };
    });
    const tty = await cli(
      onTerminal,
      ["resolve", ...ids, "--space-key", "--admin", "ops", "--password-stdin", "--wait"],
      { tty: true, stdin: "pw\r" },
    );
    expect(tty.code).toBe(1);
    const drawn = lines(tty.stderr);
    expect(drawn).toContainEqual(
      expect.stringContaining(`resolve: ${progressBar(0, 5)} resolved 0/5 · `),
    );
    expect(drawn).toContainEqual(
      expect.stringContaining(`resolve: ${progressBar(3, 5)} resolved 2/5 · 1 failed · `),
    );
    expect(tty.stdout).toContain("Job: job-1\n");
    expect(tty.stdout).toMatch(/r-d3\s+reconnect\s+d3\s+FAILED/);
  });

  /** Stats count 450 matches; each DELETE removes up to the limit. */
  function deletions(): Handler {
    let left = 450;
    return (request) => {
      if (request.path === "/failures/stats") {
        return { body: { since: null, until: null, deviceId: null, total: 450, items: [] } };
      }
      if (request.method !== "DELETE") return undefined;
      const deleted = Math.min(left, Number(request.query.limit));
      left -= deleted;
      return { body: { deleted, more: left > 0 } };
    };
  }

  it("failures delete --all asks first, then counts what it deleted", async () => {
    const target = await api(deletions());
    const result = await cli(target, ["failures", "delete", "--all"], {
      tty: true,
      stdin: "y\n",
    });
    expect(result.code).toBe(0);
    expect(result.stderr.startsWith("Delete 450 failure records? [y/N] ")).toBe(true);
    const drawn = lines(result.stderr);
    for (const count of [200, 400, 450]) {
      expect(drawn).toContainEqual(
        expect.stringContaining(
          `deleting failures: ${progressBar(count, 450)} deleted ${count}/450`,
        ),
      );
    }
    expect(result.stdout).toBe("Deleted 450 failures.\n");
    expect(target.requests.filter((request) => request.method === "DELETE")).toHaveLength(3);
  });

  it.each(["n\n", "\n", "yess\n", ""])(
    "failures delete --all deletes nothing when the answer is %j",
    async (answer) => {
      const target = await api(deletions());
      const result = await cli(target, ["failures", "delete", "--all"], {
        tty: true,
        stdin: answer,
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toBe("Nothing deleted.\n");
      expect(target.requests.map((request) => request.method)).toEqual(["GET"]);
    },
  );
});
