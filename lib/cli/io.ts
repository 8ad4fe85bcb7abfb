/**
 * The process around a command: streams, working directory, environment and clock, given by the
 * entry point so tests and the CLI share one code path.
 *
 * @module
 */
import type { CliEnv } from "./config.ts";

export interface CliOutput {
  write(text: string): unknown;
  /** True for a terminal: live progress and prompts only go there. */
  isTTY?: boolean | undefined;
  /** A terminal's width in characters: tables are cut to fit it. */
  columns?: number | undefined;
}

export interface CliInput extends NodeJS.ReadableStream {
  isTTY?: boolean | undefined;
  setRawMode?: ((mode: boolean) => unknown) | undefined;
}

export interface CliIo {
  stdin: CliInput;
  stdout: CliOutput;
  stderr: CliOutput;
  cwd: string;
  env: CliEnv;
  now: () => Date;
}
