import { StateMachine } from "aws-local-stepfunctions";
import { describe, expect, it } from "vitest";
import { definitionOf, substituteLocalArns } from "../../../lib/local/asl.ts";
import {
  COUNT_FAILURE_STATE,
  FailureTallies,
  inlineDistributedMaps,
  READ_ITEMS_SUFFIX,
  readItems,
} from "../../../lib/local/distributed-map.ts";
import { MemoryManifestStore } from "../../../lib/workflows/manifests.ts";

/** Step Functions' limit on the events in one execution's history. */
const HISTORY_LIMIT = 25_000;
const FLEET = 100_000;

type Json = Parameters<StateMachine["run"]>[0];
type AslState = {
  Type: string;
  Retry?: unknown[];
  ItemProcessor?: { ProcessorConfig?: { Mode?: string }; States: Record<string, AslState> };
  ItemBatcher?: { MaxItemsPerBatch?: number };
};
type Definition = { StartAt: string; States: Record<string, AslState> };
type Event = {
  type: string;
  index?: number;
  state?: { name: string; type: string; input?: unknown };
};

/**
 * How many events of an AWS execution history one interpreter event stands for, as an upper
 * bound (event types from the Step Functions HistoryEvent reference). A Task whose Resource is a
 * Lambda ARN writes TaskStateEntered, LambdaFunctionScheduled and LambdaFunctionStarted on entry,
 * LambdaFunctionSucceeded and TaskStateExited on exit, LambdaFunctionFailed on a failed attempt
 * and Scheduled + Started again on a retry; a Map writes MapStateEntered, MapStateStarted and
 * MapRunStarted on entry and MapRunSucceeded, MapStateSucceeded and MapStateExited on exit;
 * Pass, Choice, Succeed and Fail write one event on entry and (but Fail) one on exit.
 */
function awsEvents(event: Event): number {
  const type = event.state?.type;
  switch (event.type) {
    case "StateEntered":
      return type === "Task" ? 3 : type === "Map" ? 3 : 1;
    case "StateExited":
      return type === "Task" ? 2 : type === "Map" ? 3 : 1;
    case "StateFailed":
      return type === "Map" ? 3 : 1;
    case "StateRetried":
      return 2;
    default:
      // StateCaught (counted once, though AWS writes none of its own), the execution's start
      // and end, and an item's start and end (its child execution's start and end on AWS).
      return 1;
  }
}

/**
 * What each device does in a measured fleet, by its position modulo 5: the paths an item can
 * take, the longest included (every Task fails twice with a retried error before it answers,
 * and the status write after the install fails for good, so the failure path runs too).
 */
const KINDS = ["installed", "down", "busy", "flaky-then-failed", "installed"] as const;
type Kind = (typeof KINDS)[number];
const kindOf = (deviceId: string): Kind => KINDS[Number(deviceId.slice(4)) % KINDS.length] as Kind;

function taskError(name: string): Error {
  const error = new Error(`${name} for the test`);
  error.name = name;
  return error;
}

/** Per device and Task state: attempts made so far (the flaky device fails the first two). */
function handlersFor(n: number, manifests: MemoryManifestStore) {
  const tallies = new FailureTallies();
  const attempts = new Map<string, number>();
  const step = (state: string, deviceId: string, answer: () => unknown) => {
    const key = `${deviceId}/${state}`;
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    if (kindOf(deviceId) === "flaky-then-failed" && attempt <= 2) {
      throw taskError("Keyheal.Transient");
    }
    return answer();
  };
  type Item = { deviceId: string };
  const ids = Array.from({ length: n }, (_, i) => `dev-${i}`);
  return {
    CreateGeneration: async () => ({
      generation: 4,
      fingerprint: "SHA256:x",
      algorithm: "ed25519",
    }),
    ListDevices: async () => ({
      total: n,
      concurrency: 8,
      toleratedFailures: n,
      canary: await manifests.write("canary.json", ids.slice(0, 1)),
      fleet: await manifests.write("fleet.json", ids.slice(1)),
    }),
    [`InstallDevices${READ_ITEMS_SUFFIX}`]: (input: Json) =>
      readItems(manifests, tallies, input as never) as Promise<Json>,
    [COUNT_FAILURE_STATE]: (input: Json) => {
      tallies.fail((input as { tally: string }).tally);
      return input;
    },
    Install: ({ deviceId }: Item) =>
      step("Install", deviceId, () => {
        if (kindOf(deviceId) === "busy") return { acquired: false };
        if (kindOf(deviceId) === "down") throw taskError("Keyheal.ConnectionRefused");
        return { acquired: true, generation: 4, hostKeyFingerprint: "SHA256:host" };
      }),
    MarkInstalled: ({ deviceId }: Item) =>
      step("MarkInstalled", deviceId, () => {
        if (kindOf(deviceId) === "flaky-then-failed") throw taskError("Keyheal.StoreRejected");
        return { status: "KEY_BASED" };
      }),
    ReleaseLease: ({ deviceId }: Item) => step("ReleaseLease", deviceId, () => ({})),
    RecordFailure: ({ deviceId }: Item) =>
      step("RecordFailure", deviceId, () => ({ failureId: `f-${deviceId}` })),
    MarkFailed: ({ deviceId }: Item) => step("MarkFailed", deviceId, () => ({})),
    ReleaseAfterFailure: ({ deviceId }: Item) => step("ReleaseAfterFailure", deviceId, () => ({})),
    RetireUnused: async () => ({ retired: [] }),
  } satisfies Record<string, (input: never) => unknown>;
}

/** The Maps of a definition, and whether each runs its items as child executions on AWS. */
function mapsOf(definition: Definition) {
  return Object.entries(definition.States)
    .filter(([, state]) => state.Type === "Map")
    .map(([name, state]) => ({
      name,
      distributed: state.ItemProcessor?.ProcessorConfig?.Mode === "DISTRIBUTED",
      batchSize: state.ItemBatcher?.MaxItemsPerBatch ?? 1,
      processor: state.ItemProcessor?.States ?? {},
    }));
}

interface Measured {
  /** Events in the parent execution's history on AWS. */
  parent: number;
  /** Per device: events of its item, in its child execution on AWS (start and end included). */
  perItem: Map<string, number>;
  /** Items started and ended (MapIteration events), each a child's start or end on AWS. */
  itemEnds: number;
}

/**
 * Runs the rotate workflow over `n` devices in the interpreter, as local mode does (its
 * Distributed Map made inline by lib/local/distributed-map.ts), and splits the events between
 * the parent execution and the items, as AWS would record them.
 */
async function measure(
  definition: Definition,
  n: number,
  itemsInParent = !mapsOf(definition)[0]?.distributed,
): Promise<Measured> {
  const [map, ...others] = mapsOf(definition);
  // Events inside an item carry its index but not the Map's name: with one Map they are its.
  expect(map).toBeDefined();
  expect(others).toEqual([]);
  const localOnly = new Set([`${map?.name}${READ_ITEMS_SUFFIX}`, COUNT_FAILURE_STATE]);
  // The adaptation wraps each item in a Parallel; the workflow itself has none.
  expect(Object.values(definition.States).some((s) => s.Type === "Parallel")).toBe(false);
  const machine = new StateMachine(
    substituteLocalArns(inlineDistributedMaps(definition)) as never,
    {
      validationOptions: { noValidate: true },
    },
  );
  const handlers = handlersFor(n, new MemoryManifestStore());
  const retryStates = Object.keys(map?.processor ?? {}).filter(
    (name) => map?.processor[name]?.Retry,
  );
  const execution = machine.run({ algorithm: "ed25519", concurrency: 8 } as Json, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      retryIntervalOverrides: Object.fromEntries(retryStates.map((name) => [name, 0])),
    },
    context: {
      Execution: { Id: "arn:aws:states:eu-west-1:1:execution:rotate:r1", Name: "r1" },
    } as never,
  });
  const measured: Measured = { parent: 0, perItem: new Map(), itemEnds: 0 };
  for await (const raw of execution.eventLogs) {
    const event = raw as Event;
    if (event.type.startsWith("ParallelBranch") || event.state?.type === "Parallel") continue;
    if (event.state && localOnly.has(event.state.name)) continue;
    const inItem = event.index !== undefined;
    if (!inItem || itemsInParent) {
      // An INLINE Map's iterations are recorded in the parent's own history.
      measured.parent += awsEvents(event);
      continue;
    }
    if (event.type.startsWith("MapIteration")) {
      measured.itemEnds += 1;
      continue;
    }
    const deviceId = (event.state?.input as { deviceId?: string } | undefined)?.deviceId;
    expect(deviceId).toBeTypeOf("string");
    measured.perItem.set(
      deviceId as string,
      (measured.perItem.get(deviceId as string) ?? 0) + awsEvents(event),
    );
  }
  await execution.result;
  return measured;
}

/**
 * The model the test states: the parent's history is `a + b·N` events for N devices, with `a`
 * its own states (two phases, each a Map visit) and `b` what each device adds to it; a child
 * execution's history is `c + d·B` for a batch of B items, with `c = 2` (its start and end) and
 * `d` the events of the longest path one item takes. a and b come from fleets of 5, 10 and 20.
 */
async function fitHistoryModel(definition: Definition, itemsInParent?: boolean) {
  const sizes = [5, 10, 20] as const;
  const runs = await Promise.all(sizes.map((n) => measure(definition, n, itemsInParent)));
  const [small, , large] = runs as [Measured, Measured, Measured];
  const b = (large.parent - small.parent) / (sizes[2] - sizes[0]);
  const a = small.parent - b * sizes[0];
  return { sizes, runs, a, b };
}

describe("rotate's execution history at 100,000 devices", () => {
  const definition = definitionOf("rotate") as unknown as Definition;

  it("issue 11.2: the parent's history stays under 25,000 events (parent = a + b·N, b = 0 with the Distributed Map; child = 2 + d·batch)", async () => {
    const { sizes, runs, a, b } = await fitHistoryModel(definition);
    // The parent's events do not grow with the fleet: every fleet size gives the same count.
    expect(b).toBe(0);
    for (const run of runs) expect(run.parent).toBe(a);
    expect(a).toBeGreaterThan(20); // the parent's own states were counted
    expect(a + b * FLEET).toBeLessThan(HISTORY_LIMIT);

    // Every device ran as one item (a child execution on AWS): started and ended once.
    runs.forEach((run, i) => {
      expect(run.perItem.size).toBe(sizes[i]);
      expect(run.itemEnds).toBe(2 * (sizes[i] as number));
    });
    const d = Math.max(...runs.flatMap((run) => [...run.perItem.values()]));
    // The longest path (every Task retried twice, then the failure path) is the same at every size.
    for (const run of runs) expect(Math.max(...run.perItem.values())).toBe(d);
    const [map] = mapsOf(definition);
    const batch = map?.batchSize ?? 1;
    expect(2 + d * batch).toBeLessThan(HISTORY_LIMIT);
    // Worst path: 6 Tasks of 3 attempts and the Choice and Fail states; far from the limit.
    expect(d).toBeGreaterThan(50);
    expect(d).toBeLessThan(200);
  });

  it("issue 11.2: counted as an INLINE Map records them, the items' events land in the parent and break the limit", async () => {
    const { a, b } = await fitHistoryModel(definition, true);
    expect(b).toBeGreaterThan(10);
    expect(a + b * FLEET).toBeGreaterThan(HISTORY_LIMIT);
    // Where an INLINE fan-out stops (the issue found about 950 devices on its happy path).
    expect((HISTORY_LIMIT - a) / b).toBeLessThan(2_000);
  });
});
