/**
 * The workflows' ASL files as the local interpreter runs them: read from `lib/workflows/`, with
 * the Task states found and the Lambda placeholders substituted as CDK does on AWS.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import type { TaskName } from "../workflows/tasks/index.ts";
import type { WorkflowName } from "../workflows/workflow-names.ts";

/** The parts of an ASL state the local runtime reads. */
export type AslState = {
  Type: string;
  Resource?: string;
  ItemsPath?: string;
  ItemProcessor?: { States: Record<string, AslState> };
  Iterator?: { States: Record<string, AslState> };
  Branches?: { States: Record<string, AslState> }[];
};

/** The ASL file of a workflow: the same file the CDK stack deploys. */
export function definitionOf(workflow: WorkflowName): { States: Record<string, AslState> } {
  const url = new URL(`../workflows/${workflow}.asl.json`, import.meta.url);
  return JSON.parse(readFileSync(url, "utf8"));
}

/** Task state name → Task name, from `${NameFunctionArn}` Resources, Map processors included. */
export function taskStates(states: Record<string, AslState>): Record<string, TaskName> {
  const bound: Record<string, TaskName> = {};
  for (const [stateName, state] of Object.entries(states)) {
    const match = state.Resource?.match(/^\$\{(\w+)FunctionArn\}$/);
    if (state.Type === "Task" && match?.[1]) bound[stateName] = match[1] as TaskName;
    const nested = state.ItemProcessor?.States ?? state.Iterator?.States;
    if (nested) Object.assign(bound, taskStates(nested));
    for (const branch of state.Branches ?? []) Object.assign(bound, taskStates(branch.States));
  }
  return bound;
}

/** `${NameFunctionArn}` → a local Lambda ARN, as `definitionSubstitutions` does on AWS. */
export function substituteLocalArns<T>(definition: T): T {
  const text = JSON.stringify(definition).replace(
    /\$\{(\w+)FunctionArn\}/g,
    (_m, name: string) => `arn:aws:lambda:us-east-1:000000000000:function:keyheal-${name}`,
  );
  return JSON.parse(text) as T;
}
