import { workflowTask } from "../../lib/lambda/bundle.ts";
import { detect } from "../../lib/workflows/tasks/detect.ts";

export const handler = workflowTask("Detect", detect);
