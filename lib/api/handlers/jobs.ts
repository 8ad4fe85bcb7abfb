import type { JobRunView, JobView } from "../../contract/api.ts";
import type { JobRecord, JobRun } from "../../jobs/types.ts";
import { NotFoundError } from "../../store/errors.ts";
import type { RunReader, RunRecord } from "../../store/runs.ts";
import type { ApiHandler } from "../types.ts";

const JOB_ID = /^job-[0-9A-HJKMNP-TV-Z]{26}$/;
/** Run reads in flight at once: Step Functions' DescribeExecution has a small token bucket. */
const READ_CONCURRENCY = 8;

/**
 * A job with the state of each of its runs, and whether a run ended since the job was last
 * read. Runs whose outcome the job already keeps are not read again: polling a job of a
 * thousand devices costs only the runs still going. A run not readable yet (just started)
 * counts as running. The job is RUNNING while any run runs, FAILED when any failed, else
 * SUCCEEDED.
 */
export async function jobView(
  job: JobRecord,
  runs: RunReader,
): Promise<{ view: JobView; settled: JobRun[] | undefined }> {
  const entries: JobRun[] = job.runs.map((run) => ({ ...run }));
  let newlyEnded = 0;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < entries.length; i = next++) {
      const entry = entries[i] as JobRun;
      if (entry.outcome) continue;
      const run = await runs.get(entry.runId);
      if (run && run.status !== "RUNNING") {
        entry.outcome = { status: run.status, error: run.error ?? null, cause: run.cause ?? null };
        newlyEnded += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, entries.length) }, worker));
  const views: JobRunView[] = entries.map((entry) => ({
    deviceId: entry.deviceId,
    runId: entry.runId,
    status: entry.outcome?.status ?? "RUNNING",
    error: entry.outcome?.error ?? null,
    cause: entry.outcome?.cause ?? null,
  }));
  const count = (status: RunRecord["status"]) => views.filter((v) => v.status === status).length;
  const running = count("RUNNING");
  const failed = count("FAILED");
  const view: JobView = {
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
  return { view, settled: newlyEnded > 0 ? entries : undefined };
}

/** `GET /jobs/{id}`: the job's progress, one entry per device. */
export const getJob: ApiHandler = async (ctx, { params }) => {
  const id = params.id ?? "";
  const job = JOB_ID.test(id) ? await ctx.jobs.get(id) : undefined;
  if (!job) throw new NotFoundError("job", id);
  const { view, settled } = await jobView(job, ctx.runs);
  if (settled) await ctx.jobs.settle(job.id, settled);
  return { status: 200, body: view };
};
