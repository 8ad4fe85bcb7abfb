import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";

/** One logger and one metrics instance per runtime, as Powertools recommends. */
export const logger = new Logger({ serviceName: "keyheal" });
export const metrics = new Metrics({ namespace: "keyheal", serviceName: "keyheal" });
