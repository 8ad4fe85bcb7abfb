import { workflowTask } from "../../lib/lambda/bundle.ts";
import { ec2Cloud } from "../../lib/lambda/ec2-cloud.ts";
import { diagnose } from "../../lib/workflows/tasks/diagnose.ts";

export const handler = workflowTask("Diagnose", diagnose, { cloud: ec2Cloud });
