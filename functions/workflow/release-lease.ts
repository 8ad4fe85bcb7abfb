import { workflowTask } from "../../lib/lambda/bundle.ts";

export const handler = workflowTask("ReleaseLease");
