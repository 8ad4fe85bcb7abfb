/**
 * Secrets reach the CLI only from stdin or files, never argv (docs/architecture.md, Contracts; `--password` and the
 * like are refused in args.ts). A terminal gets a prompt with echo off; a pipe is read to its end.
 *
 * @module
 */
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { InputError } from "./errors.ts";
import type { CliIo } from "./io.ts";

const MAX_STDIN_BYTES = 64 * 1024;

/**
 * Reads one secret from stdin: the whole input without its final newline when piped, or a line
 * typed at a prompt (on stderr) with echo off when stdin is a terminal.
 *
 * @throws InputError when stdin is empty or too large
 */
export async function readSecretFromStdin(io: CliIo, what: string): Promise<string> {
  const text = io.stdin.isTTY ? await promptHidden(io, what) : await readAll(io, what);
  const secret = text.replace(/\r?\n$/, "");
  if (secret === "") {
    throw new InputError(
      `no ${what} on stdin: pipe it in, e.g. \`keyheal … --${what}-stdin < ${what}.txt\``,
    );
  }
  return secret;
}

async function readAll(io: CliIo, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_STDIN_BYTES) throw new InputError(`the ${what} on stdin is larger than 64 KiB`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A line typed at the terminal, not echoed. node:readline reads it, so the terminal's editing
 * keys edit the line instead of landing in the secret: arrows, Home and End move, Delete and
 * Backspace erase, Ctrl-U and Ctrl-W clear. Its echo goes to a muted stream; only the prompt
 * and the final newline reach stderr. Ctrl-C aborts; Enter, or Ctrl-D on an empty line, ends it.
 */
function promptHidden(io: CliIo, what: string): Promise<string> {
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: io.stdin, output: muted, terminal: true, historySize: 0 });
  io.stderr.write(`${what[0]?.toUpperCase() ?? ""}${what.slice(1)}: `);
  return new Promise((resolvePromise, reject) => {
    let outcome: { line: string } | { error: Error } | undefined;
    rl.once("line", (line) => {
      outcome = { line };
      rl.close();
    });
    rl.once("SIGINT", () => {
      outcome = { error: new InputError(`no ${what} given (interrupted)`) };
      rl.close();
    });
    rl.once("close", () => {
      io.stdin.pause();
      io.stderr.write("\n");
      if (outcome === undefined) resolvePromise(rl.line);
      else if ("error" in outcome) reject(outcome.error);
      else resolvePromise(outcome.line);
    });
  });
}
