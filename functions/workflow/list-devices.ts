import { workflowTask } from "../../lib/lambda/bundle.ts";
import { listDevices } from "../../lib/workflows/tasks/rotate.ts";

export const handler = workflowTask("ListDevices", listDevices);
