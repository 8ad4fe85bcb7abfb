import { workflowTask } from "../../lib/lambda/bundle.ts";
import { markHealthy } from "../../lib/workflows/tasks/mark-status.ts";

export const handler = workflowTask("MarkHealthy", markHealthy);
