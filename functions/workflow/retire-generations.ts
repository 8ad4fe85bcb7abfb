import { workflowTask } from "../../lib/lambda/bundle.ts";
import { retireGenerations } from "../../lib/workflows/tasks/rotate.ts";

export const handler = workflowTask("RetireGenerations", retireGenerations);
