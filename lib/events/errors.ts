/** Base class of every error raised while taking in an event. */
export class EventError extends Error {
  override name = "EventError";
}

/** One problem with one field of an event. */
export interface EventIssue {
  /** Field path such as `detail.instance-id` or `resources[2]`; `(event)` for the whole event. */
  path: string;
  /** What is wrong with it. */
  problem: string;
}

/** How many issues the message spells out; `issues` keeps them all (up to the parse's limit). */
const MESSAGE_ISSUES = 8;

/**
 * The event is malformed: not an object, a missing or mistyped field, a bad id. Nothing was
 * started. `issues` names each bad field with its problem; `fields` the paths alone.
 */
export class InvalidEventError extends EventError {
  /** `path: problem`, one per bad field. */
  readonly issues: string[];
  /** The bad field paths, in order, without duplicates. */
  readonly fields: string[];
  /** The event's `detail-type` when it was a string, else `undefined`. */
  readonly detailType: string | undefined;
  /** A description of the shape that was expected. */
  readonly expected: string;

  constructor(
    issues: readonly EventIssue[],
    expected: string,
    detailType?: string,
    options?: ErrorOptions,
  ) {
    const lines = issues.map((issue) => `${issue.path}: ${issue.problem}`);
    const shown = lines.slice(0, MESSAGE_ISSUES).join("; ");
    const more = lines.length > MESSAGE_ISSUES ? `; and ${lines.length - MESSAGE_ISSUES} more` : "";
    const what = detailType === undefined ? "event" : `${quote(detailType)} event`;
    super(`Invalid ${what}: ${shown}${more}. Expected ${expected}.`, options);
    this.name = "InvalidEventError";
    this.issues = lines;
    this.fields = [...new Set(issues.map((issue) => issue.path))];
    this.detailType = detailType;
    this.expected = expected;
  }
}

/** The event's `detail-type` is a string keyheal does not handle; nothing was started. */
export class UnknownEventTypeError extends InvalidEventError {
  override readonly detailType: string;
  /** The event's `source` when it was a string. */
  readonly source: string | undefined;

  constructor(detailType: string, source: string | undefined, known: readonly string[]) {
    super(
      [
        {
          path: "detail-type",
          problem: `${quote(detailType)} is not an event type keyheal handles`,
        },
      ],
      `one of ${known.map(quote).join(", ")}`,
    );
    this.name = "UnknownEventTypeError";
    this.detailType = detailType;
    this.source = source;
  }
}

/** JSON-quotes a value from an event for a message, cut short so garbage cannot flood logs. */
function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}
