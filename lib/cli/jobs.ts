/**
 * `keyheal jobs show JOB_ID [--wait]`: the runs one request started (a resolve of many
 * devices), with how many succeeded, failed and still run.
 *
 * @module
 */

import type { JobView } from "../contract/api.ts";
import { flag } from "./args.ts";
import type { CommandSpec } from "./command.ts";
import { EXIT, RunFailedError } from "./errors.ts";
import { formatTime, renderFields, renderJson, renderTable } from "./output.ts";
import { failureText } from "./runs.ts";
import { Progress, waitForJob } from "./wait.ts";

export function renderJob(job: JobView): string {
  const counts = [
    `${job.succeeded}/${job.total} succeeded`,
    ...(job.failed > 0 ? [`${job.failed} failed`] : []),
    ...(job.running > 0 ? [`${job.running} running`] : []),
  ].join(" · ");
  const fields = renderFields([
    ["Job", job.id],
    ["Kind", job.kind],
    ["Status", job.status],
    ["Runs", counts],
    ["Created", formatTime(job.createdAt)],
  ]);
  const runs =
    job.runs.length === 0
      ? "No runs.\n"
      : renderTable(
          ["DEVICE", "RUN", "STATUS", "ERROR"],
          job.runs.map((run) => [run.deviceId, run.runId, run.status, failureText(run)]),
        );
  return `${fields}\n${runs}`;
}

export const jobsCommands: CommandSpec[] = [
  {
    words: ["jobs", "show"],
    usage: "jobs show JOB_ID [--wait]",
    summary: "Show a job (the runs of one resolve): counts, and each device's run and outcome.",
    options: {
      wait: {
        type: "boolean",
        description:
          "Block until every run of the job ended (live progress on a terminal); exit 1 if any FAILED",
      },
    },
    positionals: { name: "JOB_ID", min: 1, max: 1 },
    api: true,
    json: true,
    async run(context) {
      const id = context.args.positionals[0] as string;
      const client = await context.client();
      const job = flag(context.args, "wait")
        ? await waitForJob(client, id, "resolved", {
            progress: new Progress(context.io.stderr),
            now: context.io.now,
          })
        : await client.getJob(id);
      context.print(context.json ? renderJson(job) : renderJob(job));
      if (flag(context.args, "wait") && job.status === "FAILED") {
        const failed = job.runs.filter((run) => run.status === "FAILED");
        throw new RunFailedError(
          failed.map((run) => run.runId),
          failed.length === 1 ? failed[0]?.deviceId : undefined,
        );
      }
      return EXIT.OK;
    },
  },
];
