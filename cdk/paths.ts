import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: entries, ASL files and web/dist are found from here, wherever synth runs. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
