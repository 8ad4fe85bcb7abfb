/**
 * Secrets reach the CLI only from stdin or files, never argv (DESIGN §6; `--password` and the
 * like are refused in args.ts). A terminal gets a prompt with echo off; a pipe is read to its end.
 *
 * @module
 */
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

/** A line typed at the terminal, not echoed. Ctrl-C aborts, Ctrl-D or Enter ends it. */
function promptHidden(io: CliIo, what: string): Promise<string> {
  const stdin = io.stdin;
  io.stderr.write(`${what[0]?.toUpperCase() ?? ""}${what.slice(1)}: `);
  return new Promise((resolvePromise, reject) => {
    let typed = "";
    const finish = (error?: Error) => {
      stdin.setRawMode?.(false);
      stdin.off("data", onData);
      stdin.pause();
      io.stderr.write("\n");
      if (error) reject(error);
      else resolvePromise(typed);
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n" || char === "\u0004") return finish();
        if (char === "\u0003") return finish(new InputError(`no ${what} given (interrupted)`));
        if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    stdin.setRawMode?.(true);
    stdin.on("data", onData);
    stdin.resume();
  });
}
