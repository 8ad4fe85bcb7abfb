/**
 * A yes/no question on the terminal, for commands that destroy records. Only asked when stdin
 * is a terminal; a script says `--yes` instead (the command refuses without it).
 *
 * @module
 */
import type { CliIo } from "./io.ts";

/** A line typed in answer is at most this long; anything longer is not a yes. */
const MAX_ANSWER = 256;

/**
 * Writes `question` on stderr and reads one line from stdin: true only for y or yes (any case).
 * End of input (Ctrl-D) is a no.
 */
export function confirm(io: CliIo, question: string): Promise<boolean> {
  const stdin = io.stdin;
  io.stderr.write(question);
  return new Promise((resolve) => {
    let typed = "";
    const finish = (answer: boolean) => {
      stdin.off("data", onData);
      stdin.off("end", onEnd);
      stdin.pause();
      resolve(answer);
    };
    const onData = (chunk: Buffer | string) => {
      typed += chunk.toString();
      const newline = typed.search(/\r?\n|\r/);
      if (newline !== -1) finish(/^\s*y(?:es)?\s*$/i.test(typed.slice(0, newline)));
      else if (typed.length > MAX_ANSWER) finish(false);
    };
    const onEnd = () => {
      io.stderr.write("\n");
      finish(false);
    };
    stdin.on("data", onData);
    stdin.on("end", onEnd);
    stdin.resume();
  });
}
