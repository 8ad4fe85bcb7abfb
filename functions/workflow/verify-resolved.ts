import { workflowTask } from "../../lib/lambda/bundle.ts";
import { verifyResolved } from "../../lib/workflows/tasks/verify.ts";

export const handler = workflowTask("VerifyResolved", verifyResolved);
