import { workflowTask } from "../../lib/lambda/bundle.ts";
import { resolve } from "../../lib/workflows/tasks/resolve.ts";

export const handler = workflowTask("Resolve", resolve);
