/**
 * The keyheal CDK app: `npm run synth`, `npx cdk deploy`. Settings come from cdk.json context
 * (`"keyheal": { … }`) or `-c keyheal:<name>=<value>`; see cdk/config.ts.
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { configFromContext, InvalidConfigError } from "../config.ts";
import { KeyhealStack } from "../keyheal-stack.ts";

const app = new App();
try {
  const config = configFromContext((key) => app.node.tryGetContext(key));
  const stackName =
    (app.node.tryGetContext("keyheal:stackName") as string | undefined) ?? "Keyheal";
  new KeyhealStack(app, stackName, { config });
} catch (error) {
  if (error instanceof InvalidConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
// AwsSolutions checks run as a validation plugin: any finding not acknowledged (with its reason,
// cdk/nag.ts) stops synthesis with the report.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
