import type { Operation } from "../contract/vocabulary.ts";
import type { Stage } from "../ssh/errors.ts";
import { type Cause, hintFor } from "./causes.ts";

export type { Operation } from "../contract/vocabulary.ts";

/**
 * A failed operation on one device, with the cause an operator acts on. The original error is
 * kept as `cause` (the ErrorOptions field); `code` is the failure cause of docs/architecture.md, Domain.
 */
export class OperationFailedError extends Error {
  readonly code: Cause;
  readonly stage: Stage;
  readonly operation: Operation;
  readonly hint: string;
  constructor(code: Cause, stage: Stage, operation: Operation, options: ErrorOptions) {
    const inner = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`${operation} failed at ${stage}: ${code}: ${inner}`, options);
    this.name = "OperationFailedError";
    this.code = code;
    this.stage = stage;
    this.operation = operation;
    this.hint = hintFor(code, operation);
  }
}
