/**
 * The local runtime's memory: a long-lived process whose RSS must level off, not climb with the
 * events it has handled (docs/architecture.md, "The runtime's memory").
 *
 * Left to its defaults on a large host, V8 lets the old generation fill with garbage to several
 * times what a full collection keeps alive before collecting it, with every Buffer that garbage
 * holds in the allocator, and grows the young generation to 128 MB: the soak's runtime climbed
 * from 300 MB to 420 MB over its 1,000 events with 35 to 45 MB alive.
 *
 * @module
 */
import { setFlagsFromString } from "node:v8";

/**
 * Flags the runtime's process is started with (bin/keyheal, `npm start`, the tests' and the
 * bench's runtime processes): V8 sizes the young generation when it creates the heap, so this
 * one cannot be set later. 16 MB semi-spaces keep the young generation at 32 MB.
 */
export const RUNTIME_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=16"];

/**
 * How far the old generation may grow past what the last full collection left alive before the
 * next one, in percent. V8 reads it at every collection, so it is set when the runtime starts.
 */
const HEAP_GROWING_PERCENT = 30;

/** Applies the runtime's heap policy to this process; called by `startLocalRuntime`. */
export function applyRuntimeHeapPolicy(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
