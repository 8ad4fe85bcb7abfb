import { workflowTask } from "../../lib/lambda/bundle.ts";
import { releaseLease } from "../../lib/workflows/tasks/lease.ts";

export const handler = workflowTask("ReleaseLease", releaseLease);
