import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";

// The local runtime sets AWS_LAMBDA_MAX_CONCURRENCY and runs each task in an InvokeStore
// context (lib/local/lambda-context.ts); a process it or its tests start inherits the variable
// but not the store, and Powertools would throw at its first use. Lambda installs the store
// before it loads a function whenever it sets the variable.
const awslambda = (globalThis as { awslambda?: { InvokeStore?: unknown } }).awslambda;
if (process.env.AWS_LAMBDA_MAX_CONCURRENCY !== undefined && !awslambda?.InvokeStore) {
  delete process.env.AWS_LAMBDA_MAX_CONCURRENCY;
}

/** One logger and one metrics instance per runtime, as Powertools recommends. */
export const logger = new Logger({ serviceName: "keyheal" });
export const metrics = new Metrics({ namespace: "keyheal", serviceName: "keyheal" });

/**
 * Publishes what a task recorded, after it ran (also when it failed). Unlike Powertools'
 * `logMetrics`, a task that recorded nothing publishes nothing and warns about nothing: most
 * workflow tasks record no metric on most calls.
 */
export const publishMetrics = {
  after: () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  },
  onError: () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  },
};
