import { workflowTask } from "../../lib/lambda/bundle.ts";
import { markFailed } from "../../lib/workflows/tasks/mark-status.ts";

export const handler = workflowTask("MarkFailed", markFailed);
