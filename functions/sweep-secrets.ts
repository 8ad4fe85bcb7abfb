import { sweepSecretsHandler } from "../lib/lambda/sweep-secrets-bundle.ts";

export const handler = sweepSecretsHandler();
