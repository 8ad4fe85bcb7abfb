/**
 * zod issues turned into `path: problem` pairs that name the field, for the API's 400 answers and
 * the inventory's errors alike. Never the offending value: a bad field may hold a secret.
 *
 * @module
 */
import type { z } from "zod";
import { formatPath } from "../events/parse-event.ts";

/** One problem with one field; `path` is `devices[2].port`, or `(body)` for the whole input. */
export interface SchemaIssue {
  path: string;
  problem: string;
}

/** How many issues are kept: garbage with thousands of bad fields stays cheap to report. */
const MAX_ISSUES = 20;

/** The issues of a failed parse, an unknown key named as its own field. */
export function issuesOf(error: z.ZodError, root = "(body)"): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        issues.push({ path: pathOf([...issue.path, key], root), problem: "is not a known field" });
      }
    } else {
      issues.push({ path: pathOf(issue.path, root), problem: issue.message });
    }
    if (issues.length >= MAX_ISSUES) break;
  }
  return issues.slice(0, MAX_ISSUES);
}

/** `path: problem; path: problem` */
export function describeIssues(issues: readonly SchemaIssue[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.problem}`).join("; ");
}

function pathOf(path: readonly PropertyKey[], root: string): string {
  return path.length === 0 ? root : formatPath(path);
}
