import { describe, expect, it } from "vitest";
import { createRouter, dispatch } from "../../../lib/api/routes.ts";
import type { ApiContext } from "../../../lib/api/types.ts";
import type { JobRecord, JobRun, JobStore } from "../../../lib/jobs/types.ts";
import type { RunRecord } from "../../../lib/store/runs.ts";

const JOB_ID = "job-01J00000000000000000000000";

/** A job store in memory, counting what is written. */
function memoryJobs(job: JobRecord): JobStore & { settles: number } {
  let stored = structuredClone(job);
  return {
    settles: 0,
    async create() {},
    async get(id) {
      return id === stored.id ? structuredClone(stored) : undefined;
    },
    async settle(_id, runs: readonly JobRun[]) {
      this.settles += 1;
      stored = { ...stored, runs: structuredClone([...runs]) };
    },
  };
}

describe("GET /jobs/{id}", () => {
  it("reads only the runs still going: an ended run's outcome is kept with the job", async () => {
    const status = new Map<string, RunRecord["status"]>([
      ["r1", "RUNNING"],
      ["r2", "RUNNING"],
      ["r3", "RUNNING"],
    ]);
    const reads: string[] = [];
    const jobs = memoryJobs({
      id: JOB_ID,
      kind: "resolve",
      createdAt: "2026-11-30T10:00:00.000Z",
      runs: ["r1", "r2", "r3"].map((runId, i) => ({ deviceId: `d${i + 1}`, runId })),
    });
    const ctx = {
      jobs,
      runs: {
        async get(id: string) {
          reads.push(id);
          const s = status.get(id) ?? "RUNNING";
          return {
            id,
            workflow: "resolve",
            deviceId: null,
            status: s,
            startedAt: "",
            endedAt: null,
            steps: [],
            ...(s === "FAILED" ? { error: "Keyheal.Failed", cause: "refused" } : {}),
          } as RunRecord;
        },
      },
    } as unknown as ApiContext;
    const read = async () =>
      (
        await dispatch(ctx, createRouter(), "GET", `/jobs/${JOB_ID}`, {
          query: {},
          body: undefined,
        })
      ).body as {
        status: string;
        succeeded: number;
        failed: number;
        running: number;
        runs: Array<{ cause: string | null }>;
      };

    expect(await read()).toMatchObject({ status: "RUNNING", running: 3 });
    expect(reads.splice(0)).toEqual(["r1", "r2", "r3"]);
    expect(jobs.settles).toBe(0);

    status.set("r1", "SUCCEEDED");
    status.set("r2", "FAILED");
    expect(await read()).toMatchObject({ status: "RUNNING", succeeded: 1, failed: 1, running: 1 });
    expect(reads.splice(0).sort()).toEqual(["r1", "r2", "r3"]);
    expect(jobs.settles).toBe(1);

    status.set("r3", "SUCCEEDED");
    const ended = await read();
    expect(ended).toMatchObject({ status: "FAILED", succeeded: 2, failed: 1, running: 0 });
    expect(ended.runs[1]?.cause).toBe("refused");
    expect(reads.splice(0)).toEqual(["r3"]);

    await read();
    expect(reads).toEqual([]);
    expect(jobs.settles).toBe(2);
  });
});
