import type { JobRecord } from "../../jobs/types.ts";
import { NotFoundError } from "../../store/errors.ts";
import type { RunRecord } from "../../store/runs.ts";
import type { ApiHandler, RunReader } from "../types.ts";

const JOB_ID = /^job-[0-9A-HJKMNP-TV-Z]{26}$/;
/** Run reads in flight at once: Step Functions' DescribeExecution has a small token bucket. */
const READ_CONCURRENCY = 8;

export interface JobRunView {
  deviceId: string;
  runId: string;
  status: RunRecord["status"];
  error: string | null;
  cause: string | null;
}

export interface JobView {
  id: string;
  kind: JobRecord["kind"];
  status: RunRecord["status"];
  total: number;
  succeeded: number;
  failed: number;
  running: number;
  createdAt: string;
  runs: JobRunView[];
}

/**
 * A job with the state of each of its runs. A run not readable yet (just started) counts as
 * running. The job is RUNNING while any run runs, FAILED when any failed, else SUCCEEDED.
 */
export async function jobView(job: JobRecord, runs: RunReader): Promise<JobView> {
  const views: JobRunView[] = new Array(job.runs.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < job.runs.length; i = next++) {
      const entry = job.runs[i] as JobRecord["runs"][number];
      const run = await runs.get(entry.runId);
      views[i] = {
        deviceId: entry.deviceId,
        runId: entry.runId,
        status: run?.status ?? "RUNNING",
        error: run?.error ?? null,
        cause: run?.cause ?? null,
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, job.runs.length) }, worker));
  const count = (status: RunRecord["status"]) => views.filter((v) => v.status === status).length;
  const running = count("RUNNING");
  const failed = count("FAILED");
  return {
    id: job.id,
    kind: job.kind,
    status: running > 0 ? "RUNNING" : failed > 0 ? "FAILED" : "SUCCEEDED",
    total: views.length,
    succeeded: count("SUCCEEDED"),
    failed,
    running,
    createdAt: job.createdAt,
    runs: views,
  };
}

/** `GET /jobs/{id}`: the job's progress, one entry per device. */
export const getJob: ApiHandler = async (ctx, { params }) => {
  const id = params.id ?? "";
  const job = JOB_ID.test(id) ? await ctx.jobs.get(id) : undefined;
  if (!job) throw new NotFoundError("job", id);
  return { status: 200, body: await jobView(job, ctx.runs) };
};
