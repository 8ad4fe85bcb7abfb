import { workflowTask } from "../../lib/lambda/bundle.ts";
import { releaseRun } from "../../lib/workflows/tasks/rotate.ts";

export const handler = workflowTask("ReleaseRun", releaseRun);
