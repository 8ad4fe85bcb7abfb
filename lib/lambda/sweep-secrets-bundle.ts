import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { SecretsManagerSecretStore } from "../store/secrets-manager-store.ts";
import { readSweepEnvironment } from "./env.ts";
import { logger } from "./powertools.ts";

/** What the sweep works on; tests pass their own through `context.store`. */
export interface SweepContext extends Context {
  store?: Pick<SecretsManagerSecretStore, "purgeExpired">;
}

/**
 * The scheduled sweep of operator secrets (an EventBridge schedule, cdk/constructs/secret-sweeper.ts):
 * every short-lived secret under the prefix past its expiry is deleted, whether a run forgot it
 * or not (an execution stopped or timed out before its Forget state, a resolve request that
 * failed between storing the secret and starting its run). Names and counts only in the log.
 */
export function sweepSecretsHandler() {
  let built: SweepContext["store"];
  const storeFromEnvironment = () => {
    built ??= new SecretsManagerSecretStore({
      client: new SecretsManagerClient({}),
      prefix: readSweepEnvironment().SECRET_PREFIX,
    });
    return built;
  };
  return middy<unknown, { purged: number }, Error, SweepContext>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (_event, context) => {
      const store = context.store ?? storeFromEnvironment();
      const purged = await store.purgeExpired();
      logger.info("expired operator secrets deleted", { purged });
      return { purged };
    });
}
