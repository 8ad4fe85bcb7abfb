/**
 * EventBridge event pattern matching for the stack harness. No maintained JavaScript library
 * implements EventBridge's matcher (AWS's own, event-ruler, is Java), so this covers the part of
 * the pattern language the template's rules use — exact values, nested fields, arrays in the
 * event — plus `prefix`, `anything-but` and `exists`, following "Event patterns in Amazon
 * EventBridge" (AWS docs). Any other operator is refused with its name rather than misread.
 */

export class UnsupportedPatternError extends Error {
  constructor(operator: string) {
    super(
      `The event pattern uses ${JSON.stringify(operator)}, which test/stack/event-pattern.ts does not implement; add it there with a test.`,
    );
    this.name = "UnsupportedPatternError";
  }
}

type Pattern = { [field: string]: Pattern | readonly unknown[] };

/** True when `event` matches `pattern` (every field the pattern names matches). */
export function matchesPattern(pattern: Pattern, event: unknown): boolean {
  if (event === null || typeof event !== "object" || Array.isArray(event)) return false;
  const record = event as Record<string, unknown>;
  for (const [field, rule] of Object.entries(pattern)) {
    const present = Object.hasOwn(record, field);
    const value = record[field];
    if (Array.isArray(rule)) {
      if (!matchesAny(rule, present, value)) return false;
    } else if (typeof rule === "object" && rule !== null) {
      if (!present || !matchesPattern(rule as Pattern, value)) return false;
    } else {
      throw new UnsupportedPatternError(`${field}: ${JSON.stringify(rule)} (not an array)`);
    }
  }
  return true;
}

/** A leaf: the event's value (or any element of an array value) equals one of the matchers. */
function matchesAny(matchers: readonly unknown[], present: boolean, value: unknown): boolean {
  const values = Array.isArray(value) ? value : [value];
  return matchers.some((matcher) => {
    if (matcher !== null && typeof matcher === "object") {
      const [operator, argument] = Object.entries(matcher)[0] ?? [];
      switch (operator) {
        case "exists":
          return argument === present;
        case "prefix":
          return (
            present && values.some((v) => typeof v === "string" && v.startsWith(String(argument)))
          );
        case "anything-but": {
          const excluded = Array.isArray(argument) ? argument : [argument];
          return present && values.every((v) => !excluded.includes(v));
        }
        default:
          throw new UnsupportedPatternError(String(operator));
      }
    }
    return present && values.some((v) => v === matcher);
  });
}

/**
 * An InputTransformer applied as EventBridge does: each `<name>` of the template replaced by the
 * JSON of the value its InputPathsMap path selects (`$.detail.name`).
 */
export function transformInput(
  transformer: { InputPathsMap?: Record<string, string>; InputTemplate: string },
  event: unknown,
): unknown {
  const values: Record<string, unknown> = {};
  for (const [name, jsonPath] of Object.entries(transformer.InputPathsMap ?? {})) {
    if (!/^\$(\.[A-Za-z0-9_-]+)*$/.test(jsonPath)) throw new UnsupportedPatternError(jsonPath);
    values[name] = jsonPath
      .split(".")
      .slice(1)
      .reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], event);
  }
  const text = transformer.InputTemplate.replace(/<([A-Za-z0-9_.-]+)>/g, (match, name: string) =>
    name in values ? JSON.stringify(values[name] ?? null) : match,
  );
  return JSON.parse(text);
}
