import { workflowTask } from "../../lib/lambda/bundle.ts";
import { verify } from "../../lib/workflows/tasks/verify.ts";

export const handler = workflowTask("Verify", verify);
