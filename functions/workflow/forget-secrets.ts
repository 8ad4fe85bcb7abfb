import { workflowTask } from "../../lib/lambda/bundle.ts";
import { forgetSecrets } from "../../lib/workflows/tasks/forget-secrets.ts";

export const handler = workflowTask("ForgetSecrets", forgetSecrets);
