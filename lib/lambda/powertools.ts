import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { dropInheritedConcurrency } from "./env.ts";

dropInheritedConcurrency();

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
