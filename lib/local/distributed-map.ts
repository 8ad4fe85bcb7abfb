/**
 * The one adaptation local mode makes to a workflow file: aws-local-stepfunctions runs INLINE
 * Maps only, so a DISTRIBUTED Map becomes an INLINE Map that behaves the same for keyheal.
 *
 * - `ItemReader` (the S3 manifest) → a Task `<Map>.ReadItems` just before the Map, bound to
 *   {@link readItems}, which reads the same manifest from the runtime's manifest store; every
 *   transition into the Map goes to it instead.
 * - `ToleratedFailureCount(Path)` → each item runs inside a Parallel whose Catch counts the
 *   failure ({@link countFailure}); one failure more than tolerated fails the item with
 *   `States.ExceedToleratedFailureThreshold`, which stops the inline Map (its other items are
 *   aborted) just as the Map Run stops on AWS, and the Map's own Catch sees the same error name.
 * - `ItemBatcher`, `ResultWriter`, `Label` and the child `ExecutionType` have no local meaning
 *   and are dropped; `ItemSelector`, `MaxConcurrency(Path)`, `ResultPath` and `Catch` stay.
 *
 * @module
 */
import type { ManifestStore } from "../workflows/manifests.ts";

type State = Record<string, unknown> & { Type: string };
type Definition = { StartAt: string; States: Record<string, State> };

/** The local Lambda ARN of an adaptation task (the validator wants ARNs in Resource). */
const localArn = (name: string) =>
  `arn:aws:lambda:us-east-1:000000000000:function:keyheal-local-${name}`;

/** Where the reader puts the items and the failure tally in the Map's input. */
const ITEMS = "localMapItems";
export const READ_ITEMS_SUFFIX = ".ReadItems";
export const COUNT_FAILURE_STATE = "CountFailure";

/** The error an item fails with once more items failed than the Map tolerates. */
export class ToleratedFailureThresholdError extends Error {
  constructor(failed: number, tolerated: number) {
    super(`${failed} items failed, more than the ${tolerated} tolerated.`);
    this.name = "States.ExceedToleratedFailureThreshold";
  }
}

/**
 * `definition` with every DISTRIBUTED Map made INLINE as described above; the input is not
 * changed. Only top-level Maps are adapted (keyheal nests none).
 */
export function inlineDistributedMaps<T>(definition: T): T {
  const source = definition as unknown as Definition;
  const states: Record<string, State> = {};
  const readerOf = new Map<string, string>();
  for (const [name, state] of Object.entries(source.States)) {
    const processor = state.ItemProcessor as
      | { ProcessorConfig?: { Mode?: string }; StartAt: string; States: object }
      | undefined;
    if (state.Type !== "Map" || processor?.ProcessorConfig?.Mode !== "DISTRIBUTED") continue;
    readerOf.set(name, `${name}${READ_ITEMS_SUFFIX}`);
  }
  const redirect = (next: unknown) =>
    typeof next === "string" && readerOf.has(next) ? readerOf.get(next) : next;
  for (const [name, original] of Object.entries(source.States)) {
    const state = structuredClone(original);
    if (typeof state.Next === "string") state.Next = redirect(state.Next);
    if (typeof state.Default === "string") state.Default = redirect(state.Default);
    for (const list of [state.Choices, state.Catch] as unknown[]) {
      if (!Array.isArray(list)) continue;
      for (const rule of list as Array<{ Next?: string }>)
        rule.Next = redirect(rule.Next) as string;
    }
    const reader = readerOf.get(name);
    if (reader === undefined) {
      states[name] = state;
      continue;
    }
    const itemReader = state.ItemReader as { Parameters?: Record<string, unknown> } | undefined;
    const tolerated =
      typeof state.ToleratedFailureCountPath === "string"
        ? { "tolerated.$": state.ToleratedFailureCountPath }
        : { tolerated: state.ToleratedFailureCount ?? 0 };
    states[reader] = {
      Type: "Task",
      Comment: `Local stand-in for ${name}'s ItemReader (lib/local/distributed-map.ts).`,
      Resource: localArn("ReadItems"),
      Parameters: { ...(itemReader?.Parameters ?? {}), ...tolerated },
      ResultPath: `$.${ITEMS}`,
      Next: name,
    };
    const { ProcessorConfig: _mode, ...processor } = state.ItemProcessor as Record<string, unknown>;
    for (const field of [
      "ItemReader",
      "ItemBatcher",
      "ResultWriter",
      "Label",
      "ToleratedFailureCount",
      "ToleratedFailureCountPath",
      "ToleratedFailurePercentage",
      "ToleratedFailurePercentagePath",
    ]) {
      delete state[field];
    }
    state.ItemsPath = `$.${ITEMS}.items`;
    state.ItemSelector = {
      ...((state.ItemSelector as object | undefined) ?? { "item.$": "$$.Map.Item.Value" }),
      "localTally.$": `$.${ITEMS}.tally`,
    };
    state.ItemProcessor = {
      ProcessorConfig: { Mode: "INLINE" },
      StartAt: "Item",
      States: {
        Item: {
          Type: "Parallel",
          Branches: [processor],
          Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: null, Next: COUNT_FAILURE_STATE }],
          End: true,
        },
        [COUNT_FAILURE_STATE]: {
          Type: "Task",
          Resource: localArn(COUNT_FAILURE_STATE),
          Parameters: { "tally.$": "$.localTally" },
          End: true,
        },
      },
    };
    states[name] = state;
  }
  const start = redirect(source.StartAt) as string;
  return { ...(definition as object), StartAt: start, States: states } as T;
}

/** Failures counted per Map visit, against what that visit tolerates. */
export class FailureTallies {
  readonly #tallies = new Map<string, { failed: number; tolerated: number }>();
  #next = 0;

  open(tolerated: number): string {
    const id = `tally-${++this.#next}`;
    this.#tallies.set(id, { failed: 0, tolerated });
    return id;
  }

  /** @throws ToleratedFailureThresholdError once more items failed than tolerated. */
  fail(id: string): void {
    const tally = this.#tallies.get(id);
    if (!tally) return;
    tally.failed += 1;
    if (tally.failed > tally.tolerated) {
      this.#tallies.delete(id);
      throw new ToleratedFailureThresholdError(tally.failed, tally.tolerated);
    }
  }
}

/** The `<Map>.ReadItems` task: the manifest's items and a fresh failure tally. */
export async function readItems(
  manifests: ManifestStore | undefined,
  tallies: FailureTallies,
  input: { Bucket?: string; Key?: string; tolerated?: number },
): Promise<{ items: string[]; tally: string }> {
  if (!manifests || input.Bucket === undefined || input.Key === undefined) {
    throw new Error("The Map's ItemReader names no manifest the local runtime holds.");
  }
  const items = await manifests.read({ bucket: input.Bucket, key: input.Key });
  return { items, tally: tallies.open(Math.max(0, input.tolerated ?? 0)) };
}
