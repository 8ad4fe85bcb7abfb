import { workflowTask } from "../../lib/lambda/bundle.ts";
import { acquireLease } from "../../lib/workflows/tasks/lease.ts";

export const handler = workflowTask("AcquireLease", acquireLease);
