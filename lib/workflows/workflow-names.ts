/**
 * The three workflows, one ASL file each (`lib/workflows/<name>.asl.json`): the names a run is
 * started under, locally and on Step Functions alike (docs/architecture.md, An event's journey).
 *
 * @module
 */

export const WORKFLOWS = ["reconnect", "resolve", "rotate"] as const;
export type WorkflowName = (typeof WORKFLOWS)[number];
