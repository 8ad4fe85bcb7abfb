/**
 * `--since` and `--until` values, in the grammar of `lib/validation/time.ts`.
 *
 * @module
 */
import { INSTANT_EXAMPLES, parseInstant } from "../validation/time.ts";
import { UsageError } from "./errors.ts";

/**
 * The instant `--since` names, as an ISO string.
 *
 * @throws UsageError for anything that is neither a positive duration nor an ISO date.
 */
export function parseSince(text: string, now: Date, flagName = "--since"): string {
  const instant = parseInstant(text, now);
  if (instant !== undefined) return instant;
  throw new UsageError(`${flagName} must be ${INSTANT_EXAMPLES} (got ${JSON.stringify(text)})`);
}
