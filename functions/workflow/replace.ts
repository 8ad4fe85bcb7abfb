import { workflowTask } from "../../lib/lambda/bundle.ts";
import { replace } from "../../lib/workflows/tasks/replace.ts";

export const handler = workflowTask("Replace", replace);
