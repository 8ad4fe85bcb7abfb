import { workflowTask } from "../../lib/lambda/bundle.ts";
import { createGeneration } from "../../lib/workflows/tasks/rotate.ts";

export const handler = workflowTask("CreateGeneration", createGeneration);
