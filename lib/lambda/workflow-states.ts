/**
 * The top-level states of each workflow's ASL file, bundled with the API function so it can fold
 * an execution's history into fan-out progress without reading files at run time.
 *
 * @module
 */
import reconnect from "../workflows/reconnect.asl.json" with { type: "json" };
import resolve from "../workflows/resolve.asl.json" with { type: "json" };
import rotate from "../workflows/rotate.asl.json" with { type: "json" };

type States = Readonly<Record<string, { Type: string; ItemsPath?: string }>>;

export const WORKFLOW_STATES: Readonly<Record<"reconnect" | "resolve" | "rotate", States>> = {
  reconnect: reconnect.States as States,
  resolve: resolve.States as States,
  rotate: rotate.States as States,
};
