import { workflowTask } from "../../lib/lambda/bundle.ts";
import { recordFailure } from "../../lib/workflows/tasks/record-failure.ts";

export const handler = workflowTask("RecordFailure", recordFailure);
