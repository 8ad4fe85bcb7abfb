import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TASKS } from "../../../lib/workflows/tasks/index.ts";

/** asl-validator's JS API (a CommonJS module shipped without type declarations). */
type AslValidator = (
  definition: unknown,
  options?: { checkPaths: boolean; checkArn: boolean },
) => {
  isValid: boolean;
  errors: { "Error code": string; Message: string }[];
  errorsText: (separator?: string) => string;
};
const aslValidator = createRequire(import.meta.url)("asl-validator") as AslValidator;

const WORKFLOWS_DIR = join(import.meta.dirname, "../../../lib/workflows");
const FILES = readdirSync(WORKFLOWS_DIR)
  .filter((name) => name.endsWith(".asl.json"))
  .sort();

const PLACEHOLDER = /^\$\{([A-Za-z0-9]+)FunctionArn\}$/;

interface Catcher {
  ErrorEquals: string[];
  Next: string;
}
interface Retrier {
  ErrorEquals: string[];
}
interface State {
  Type: string;
  Resource?: string;
  Next?: string;
  Default?: string;
  Choices?: { Next: string }[];
  Catch?: Catcher[];
  Retry?: Retrier[];
  ItemProcessor?: StateMachine;
  Iterator?: StateMachine;
  Branches?: StateMachine[];
}
interface StateMachine {
  StartAt: string;
  States: Record<string, State>;
}

function load(file: string): StateMachine {
  return JSON.parse(readFileSync(join(WORKFLOWS_DIR, file), "utf8")) as StateMachine;
}

/** Every state of a machine, nested ones (Map, Parallel) included, with the scope it lives in. */
function allStates(
  machine: StateMachine,
  path = "",
): { path: string; name: string; state: State; scope: StateMachine }[] {
  return Object.entries(machine.States).flatMap(([name, state]) => {
    const here = `${path}${name}`;
    const nested = [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])].filter(
      (sub): sub is StateMachine => sub !== undefined,
    );
    return [
      { path: here, name, state, scope: machine },
      ...nested.flatMap((sub) => allStates(sub, `${here}/`)),
    ];
  });
}

function tasksOf(machine: StateMachine) {
  return allStates(machine).filter(({ state }) => state.Type === "Task");
}

/** Every value anywhere in the document, with the key it sits under. */
function* entries(value: unknown, key = ""): Generator<[string, unknown]> {
  yield [key, value];
  if (Array.isArray(value)) {
    for (const item of value) yield* entries(item, key);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) yield* entries(v, k);
  }
}

describe("state machine definitions", () => {
  it("finds the workflows", () => {
    expect(FILES).toEqual(
      expect.arrayContaining(["reconnect.asl.json", "resolve.asl.json", "rotate.asl.json"]),
    );
  });

  describe.each(FILES)("%s", (file) => {
    it("is valid Amazon States Language (asl-validator)", () => {
      // The validator writes default QueryLanguage fields into what it is given: load() parses anew.
      // checkArn stays on: with it off, asl-validator takes any string as an ARN, so a
      // `${NameFunctionArn}` placeholder matches both of its Resource schemas and fails `oneOf`.
      // With it on, a placeholder is not an ARN and matches only the placeholder schema.
      const result = aslValidator(load(file), { checkPaths: true, checkArn: true });
      expect(result.errorsText("\n")).toBe("");
      expect(result.isValid).toBe(true);
    });

    it("binds every Task to a NameFunctionArn placeholder of a known task", () => {
      const machine = load(file);
      const known = Object.keys(TASKS);
      const tasks = tasksOf(machine);
      expect(tasks.length).toBeGreaterThan(0);
      for (const { path, state } of tasks) {
        const match = PLACEHOLDER.exec(state.Resource ?? "");
        expect(match, `${path}: Resource ${state.Resource}`).not.toBeNull();
        expect(known, `${path}: ${state.Resource}`).toContain(match?.[1]);
      }
    });

    it("gives every Task a Catch that ends with States.ALL", () => {
      for (const { path, state } of tasksOf(load(file))) {
        const catchers = state.Catch ?? [];
        expect(catchers.length, `${path} has no Catch`).toBeGreaterThan(0);
        const last = catchers.at(-1);
        expect(last?.ErrorEquals, `${path}: last catcher`).toEqual(["States.ALL"]);
        // States.ALL must stand alone and last, or the catchers after it never match.
        for (const catcher of catchers.slice(0, -1)) {
          expect(catcher.ErrorEquals, `${path}: catcher before the last`).not.toContain(
            "States.ALL",
          );
        }
      }
    });

    it("retries only named (transient) errors, never States.ALL", () => {
      for (const { path, state } of allStates(load(file))) {
        for (const retrier of state.Retry ?? []) {
          expect(retrier.ErrorEquals.length, `${path}: empty Retry`).toBeGreaterThan(0);
          expect(retrier.ErrorEquals, `${path}: Retry`).not.toContain("States.ALL");
          expect(retrier.ErrorEquals, `${path}: Retry`).not.toContain("States.TaskFailed");
        }
      }
    });

    it("uses JSONPath only, never JSONata", () => {
      const raw = JSON.parse(readFileSync(join(WORKFLOWS_DIR, file), "utf8")) as unknown;
      for (const [key, value] of entries(raw)) {
        if (key === "QueryLanguage") expect(value, "QueryLanguage").toBe("JSONPath");
        if (typeof value === "string") {
          expect(value.trimStart().startsWith("{%"), `JSONata expression under ${key}`).toBe(false);
        }
      }
    });

    it("points every StartAt, Next, Default and Catch target at a state of the same scope", () => {
      const machine = load(file);
      const scopes = [
        machine,
        ...allStates(machine).flatMap(({ state }) =>
          [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])].filter(
            (sub): sub is StateMachine => sub !== undefined,
          ),
        ),
      ];
      for (const scope of scopes) {
        expect(Object.keys(scope.States), "StartAt").toContain(scope.StartAt);
      }
      for (const { path, state, scope } of allStates(machine)) {
        const names = Object.keys(scope.States);
        const targets = [
          state.Next,
          state.Default,
          ...(state.Choices ?? []).map((choice) => choice.Next),
          ...(state.Catch ?? []).map((catcher) => catcher.Next),
        ].filter((target): target is string => target !== undefined);
        for (const target of targets) expect(names, `${path} -> ${target}`).toContain(target);
      }
    });
  });
});
