import { workflowTask } from "../../lib/lambda/bundle.ts";
import { s3Manifests } from "../../lib/lambda/s3-manifests.ts";
import { listDevices } from "../../lib/workflows/tasks/rotate.ts";

export const handler = workflowTask("ListDevices", listDevices, { manifests: s3Manifests });
