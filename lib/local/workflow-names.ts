/**
 * The workflows keyheal runs, one ASL file each in `lib/workflows/` (docs/architecture.md).
 *
 * @module
 */
export const WORKFLOWS = ["reconnect", "resolve", "rotate"] as const;
export type WorkflowName = (typeof WORKFLOWS)[number];
