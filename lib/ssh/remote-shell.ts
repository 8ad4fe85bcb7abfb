import { randomBytes } from "node:crypto";
import type { ClientChannel } from "ssh2";
import {
  CommandTimeoutError,
  ConnectionLostError,
  OutputTooLargeError,
  printable,
  RemoteProtocolError,
  SudoFailedError,
} from "./errors.ts";
import type { SshSession } from "./session.ts";
import { type ExecResult, MAX_OUTPUT_BYTES } from "./types.ts";

/**
 * One long-lived POSIX `sh` per connection, spoken to in framed commands (docs/protocol.md).
 *
 * - Framing: every command's output sits between markers made of a random tag chosen for this
 *   channel, so whatever a login prints (`.bashrc`, motd on exec, a profile's `echo`) is skipped,
 *   and nothing a command prints can be taken for the end of another.
 * - Privilege: with `sudo`, sudo is asked to print a prompt of keyheal's own, unique to the
 *   channel. The password is written only when that exact prompt appears, and privilege is known
 *   to be gained when the shell's ready marker appears, with or without a password. Nothing is
 *   sent to the shell before that marker, so a password can never reach a command or a file.
 * - Limits: each command's output is read up to `maxOutputBytes`; past it, reading stops, the
 *   channel is closed and the step fails with {@link OutputTooLargeError}.
 * - Input: commands take no stdin from the channel (`</dev/null`); data for a command travels in
 *   the command text as octal `printf` escapes (see {@link printfBytes}), never as argv of an
 *   external program. The shell function `kh_input`, defined for that command only, prints it:
 *   no pipe and no `cat`, so a step writing it to a file starts no program for it.
 * - Isolation: a command runs in a subshell, so `exit` or a changed option ends with it; a caller
 *   whose command only calls functions that `return` (the library's steps) may run it in the
 *   shell itself and save the subshell's fork.
 */
export interface ShellOptions {
  /**
   * Shell function definitions, sent once after the shell is ready (constant text only, given the
   * shell's uid from its ready marker).
   */
  library?: (uid: number) => string;
  /** Become root through sudo; the password is sent only to sudo's own prompt. */
  sudo?: { password?: string | undefined } | undefined;
  /** Per command; defaults to the session's command timeout. */
  timeoutMs?: number;
  /** Per command (stdout and stderr each); defaults to {@link MAX_OUTPUT_BYTES} plus framing. */
  maxOutputBytes?: number;
}

export interface RunOptions {
  /** Bytes the command reads from the function `kh_input` (see the module's "Input"). */
  input?: Buffer;
  /** What the command does, for messages. */
  what?: string;
  maxOutputBytes?: number;
  /** False: run in the shell itself, not a subshell (see the module's "Isolation"). */
  isolated?: boolean;
}

/** Room for the markers and the exit status around a command's own output. */
const FRAMING_BYTES = 256;
/** The least each shell-open may print before the ready marker (banners, rc files). */
const MAX_PRELUDE_BYTES = 64 * 1024;

export class RemoteShell {
  readonly session: SshSession;
  #uid = -1;
  #channel: ClientChannel;
  #tag: string;
  #timeoutMs: number;
  #maxOutput: number;
  #out: Buffer = Buffer.alloc(0);
  #err: Buffer = Buffer.alloc(0);
  #wake: (() => void) | undefined;
  #gone: Error | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #unsubscribe: () => void;

  private constructor(
    session: SshSession,
    channel: ClientChannel,
    tag: string,
    options: ShellOptions,
  ) {
    this.session = session;
    this.#channel = channel;
    this.#tag = tag;
    this.#timeoutMs = options.timeoutMs ?? session.commandTimeoutMs;
    this.#maxOutput = (options.maxOutputBytes ?? MAX_OUTPUT_BYTES) + FRAMING_BYTES;
    this.#unsubscribe = () => {};
  }

  /**
   * Opens the shell on one new channel of `session` and waits for its ready marker. Fails with
   * {@link SudoFailedError} when sudo does not give a root shell, and with
   * {@link RemoteProtocolError} when the device runs something other than the command sent.
   */
  static async open(session: SshSession, options: ShellOptions = {}): Promise<RemoteShell> {
    const tag = `KH${randomBytes(12).toString("hex")}`;
    const ready = `${tag}R`;
    const prompt = `[keyheal-sudo ${tag}] password:`;
    // The login shell (bash, zsh, fish, csh…) runs this line: keep it to words every shell reads.
    // The uid comes from the kernel's own record of the process where there is one, without
    // starting a program (`id`), which costs the device a fork and an exec per connection.
    const inner = `'u=; while read -r k r e x; do if [ "$k" = Uid: ]; then u=$e; break; fi; done 2>/dev/null </proc/self/status; [ -n "$u" ] || u=$(id -u); echo ${ready}$u; exec sh -s'`;
    const command = options.sudo
      ? `exec sudo -S -p '${prompt}' sh -c ${inner}`
      : `exec sh -c ${inner}`;
    const channel = await session.openChannel(command);
    const shell = new RemoteShell(session, channel, tag, options);
    shell.#listen();
    try {
      await shell.#awaitReady(ready, prompt, options.sudo);
      if (options.library) shell.#write(`${options.library(shell.#uid)}\n`);
      return shell;
    } catch (error) {
      shell.close();
      throw error;
    }
  }

  /** True when the shell runs as root (through sudo, or the login user is root). */
  get root(): boolean {
    return this.#uid === 0;
  }

  #listen(): void {
    const wake = () => this.#wake?.();
    this.#channel.on("data", (chunk: Buffer) => {
      this.#out = this.#out.length ? Buffer.concat([this.#out, chunk]) : chunk;
      wake();
    });
    this.#channel.stderr.on("data", (chunk: Buffer) => {
      this.#err = this.#err.length ? Buffer.concat([this.#err, chunk]) : chunk;
      wake();
    });
    const lost = (err?: Error) => {
      this.#gone ??= err ?? new ConnectionLostError(this.session.host);
      wake();
    };
    this.#channel.on("close", () => lost());
    this.#channel.on("error", (err: Error) =>
      lost(new ConnectionLostError(this.session.host, { cause: err })),
    );
    this.#unsubscribe = this.session.onLost((err) => lost(err));
  }

  /** Waits until `ready()` returns a value, the channel goes, the output cap or the timeout. */
  #until<T>(what: string, cap: number, ready: () => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => done(new CommandTimeoutError(what, this.#timeoutMs)),
        this.#timeoutMs,
      );
      const done = (err?: Error, value?: T) => {
        clearTimeout(timer);
        this.#wake = undefined;
        if (err) {
          this.#channel.destroy();
          reject(err);
        } else resolve(value as T);
      };
      const check = () => {
        let value: T | undefined;
        try {
          value = ready();
        } catch (error) {
          done(error as Error);
          return;
        }
        if (value !== undefined) return done(undefined, value);
        if (this.#out.length > cap || this.#err.length > cap) {
          return done(new OutputTooLargeError(this.session.host, what, cap - FRAMING_BYTES));
        }
        if (this.#gone) return done(this.#gone);
      };
      this.#wake = check;
      check();
    });
  }

  async #awaitReady(ready: string, prompt: string, sudo: ShellOptions["sudo"]): Promise<void> {
    const marker = Buffer.from(ready);
    let promptsAnswered = 0;
    try {
      await this.#until("shell start", MAX_PRELUDE_BYTES, () => {
        const at = this.#out.indexOf(marker);
        const eol = at >= 0 ? this.#out.indexOf(0x0a, at) : -1;
        if (eol >= 0) {
          // The marker carries the shell's uid: `<tag>R<uid>`.
          this.#uid = Number.parseInt(this.#out.subarray(at + marker.length, eol).toString(), 10);
          this.#out = this.#out.subarray(eol + 1);
          this.#err = Buffer.alloc(0);
          return true;
        }
        if (!sudo) return undefined;
        const prompts = countOf(this.#err, prompt);
        if (prompts > promptsAnswered) {
          if (promptsAnswered > 0) {
            throw new SudoFailedError(
              this.session.host,
              "password-refused",
              sudoSaid(this.#err, prompt),
            );
          }
          if (sudo.password === undefined) {
            throw new SudoFailedError(this.session.host, "password-needed", "");
          }
          promptsAnswered = prompts;
          this.#write(`${sudo.password}\n`);
        }
        return undefined;
      });
    } catch (error) {
      if (error instanceof ConnectionLostError && !this.session.closed) {
        // The channel ended before the marker: sudo refused, or the login ran something else.
        if (sudo)
          throw new SudoFailedError(this.session.host, "refused", sudoSaid(this.#err, prompt));
        throw new RemoteProtocolError(
          this.session.host,
          "the login ended without running keyheal's shell (a forced command= on the key, or a restricted shell)",
          printable(Buffer.concat([this.#out, this.#err])),
        );
      }
      if (error instanceof CommandTimeoutError && this.#out.length + this.#err.length > 0) {
        throw new RemoteProtocolError(
          this.session.host,
          "the login printed output but never started keyheal's shell (a forced command= on the key?)",
          printable(Buffer.concat([this.#out, this.#err])),
          { cause: error },
        );
      }
      throw error;
    }
  }

  #write(text: string): void {
    this.#channel.write(text);
  }

  /**
   * Runs one command line in the shell (in a subshell, so `exit` ends only the command; with
   * `isolated: false` in the shell itself) and returns its exit status and output. Commands run
   * one at a time, in call order.
   */
  run(commandLine: string, options: RunOptions = {}): Promise<ExecResult> {
    const next = this.#queue.then(() => this.#run(commandLine, options));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #run(commandLine: string, options: RunOptions): Promise<ExecResult> {
    const what = options.what ?? "command";
    if (this.#gone) throw this.#gone;
    const begin = Buffer.from(`${this.#tag}B\n`);
    const end = Buffer.from(`\n${this.#tag}E`);
    const errEnd = Buffer.from(`${this.#tag}F\n`);
    this.#out = Buffer.alloc(0);
    this.#err = Buffer.alloc(0);
    const input = inputFunction(options.input);
    const body =
      options.isolated === false
        ? `{ ${input}${commandLine}; } </dev/null`
        : `( ${input}${commandLine} ) </dev/null`;
    // In the shell itself, the input function is removed after the command, status kept.
    const after = options.isolated === false && input ? `; unset -f ${INPUT_FUNCTION}` : "";
    this.#write(
      `printf '%s\\n' ${this.#tag}B; ${body}; printf '\\n${this.#tag}E%s\\n' "$?"${after}; printf '%s\\n' ${this.#tag}F >&2\n`,
    );
    const cap =
      options.maxOutputBytes === undefined
        ? this.#maxOutput
        : options.maxOutputBytes + FRAMING_BYTES;
    return this.#until(what, cap, () => {
      const start = this.#out.indexOf(begin);
      if (start < 0) return undefined;
      const stop = this.#out.indexOf(end, start + begin.length);
      if (stop < 0) return undefined;
      const line = this.#out.indexOf(0x0a, stop + end.length);
      if (line < 0) return undefined;
      const errStop = this.#err.indexOf(errEnd);
      if (errStop < 0) return undefined;
      const code = Number.parseInt(this.#out.subarray(stop + end.length, line).toString(), 10);
      // The payload starts after the begin marker; the end marker adds the newline before it.
      const from = start + begin.length;
      const result: ExecResult = {
        code: Number.isNaN(code) ? -1 : code,
        stdout: Buffer.from(this.#out.subarray(from, stop)),
        stderr: Buffer.from(this.#err.subarray(0, errStop)),
      };
      this.#out = this.#out.subarray(line + 1);
      this.#err = this.#err.subarray(errStop + errEnd.length);
      return result;
    });
  }

  /** Ends the shell (and only this channel: the connection stays open). */
  close(): void {
    this.#unsubscribe();
    this.#channel.end();
    this.#channel.close();
  }

  /** Cuts the channel at once. */
  destroy(): void {
    this.#unsubscribe();
    this.#channel.destroy();
  }
}

function countOf(haystack: Buffer, needle: string): number {
  let count = 0;
  let at = haystack.indexOf(needle);
  while (at >= 0) {
    count += 1;
    at = haystack.indexOf(needle, at + needle.length);
  }
  return count;
}

/** What sudo printed, without keyheal's prompt, safe to log. */
function sudoSaid(stderr: Buffer, prompt: string): string {
  return printable(stderr.toString("utf8").replaceAll(prompt, " "));
}

/** The shell function a command's input is given as (see the module's "Input"). */
const INPUT_FUNCTION = "kh_input";

/**
 * The definition of {@link INPUT_FUNCTION} printing `input`, to put before the command; without
 * input, nothing, and the function stays undefined.
 */
export function inputFunction(input: Buffer | undefined): string {
  return input === undefined ? "" : `${INPUT_FUNCTION}() { ${printfBytes(input)}; }; `;
}

/** Bytes printed literally inside single quotes by `printf`; everything else as octal. */
const PLAIN = new Uint8Array(256);
for (let b = 0x20; b < 0x7f; b++) PLAIN[b] = 1;
for (const c of "'\\%") PLAIN[c.charCodeAt(0)] = 0;

/**
 * Shell text that writes `bytes` exactly to stdout with the shell's `printf` builtin (POSIX octal
 * escapes; no external tool, no argv), NUL included (`\000`, as dash and bash write it).
 */
export function printfBytes(bytes: Buffer): string {
  if (bytes.length === 0) return ":";
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += 1024) {
    let chunk = "";
    for (const b of bytes.subarray(i, i + 1024)) {
      chunk += PLAIN[b] ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, "0")}`;
    }
    parts.push(`printf '${chunk}'`);
  }
  return `{ ${parts.join("; ")}; }`;
}
