import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { authorizedKeysPathSegments } from "../../../lib/replace/authorized-keys-path.ts";
import { hashOf } from "../../../lib/replace/remote.ts";
import {
  EXIT,
  type StepName,
  shellLibrary,
  shQuote,
  stepCommand,
} from "../../../lib/replace/remote-scripts.ts";
import { inputFunction, printfBytes } from "../../../lib/ssh/remote-shell.ts";

const PATH = authorizedKeysPathSegments(".ssh/authorized_keys", "nobody");

/**
 * Runs one library step with the local POSIX sh (dash), as the remote shell runs it: its data in
 * the function `kh_input`; or, with `viaStdin`, piped to it as a step run as another user gets it.
 */
function runStep(home: string, name: StepName, args: string[], input?: string, viaStdin = false) {
  const bytes = input === undefined ? undefined : Buffer.from(input);
  const step =
    bytes !== undefined && viaStdin
      ? `${printfBytes(bytes)} | ( ${stepCommand(name, args)} )`
      : `( ${inputFunction(bytes)}${stepCommand(name, args)} ) </dev/null`;
  const result = spawnSync("sh", ["-c", `${shellLibrary(process.getuid?.() ?? -1)}\n${step}`], {
    env: { HOME: home, PATH: process.env.PATH ?? "/usr/bin:/bin" },
    cwd: home,
  });
  return {
    code: result.status,
    stdout: result.stdout.toString(),
    stderr: result.stderr.toString(),
  };
}

const read = (home: string) => runStep(home, "kh_read", ["", "1048576", ...PATH]);
const write = (home: string, hash: string, content: string) =>
  runStep(home, "kh_write", ["", hash, ...PATH], content);

let home: string;
const file = () => join(home, ".ssh", "authorized_keys");

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "keyheal-script-"));
});

describe("shQuote", () => {
  it.each(["plain", "it's", "$HOME `id` $(id)", "a\nb", "!x", "", "'''"])(
    "round-trips %j through sh",
    (value) => {
      const out = execFileSync("sh", ["-c", `printf '%s' ${shQuote(value)}`]).toString();
      expect(out).toBe(value);
    },
  );
});

describe("printfBytes", () => {
  it("writes every byte exactly, NUL included, with and without a trailing newline", () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    for (const bytes of [
      all,
      Buffer.from("a\r\nb"),
      Buffer.from("x\n"),
      Buffer.alloc(3000, 0x25),
    ]) {
      const out = execFileSync("sh", ["-c", printfBytes(bytes)]);
      expect(out.equals(bytes)).toBe(true);
    }
  });
});

describe("remote steps run by sh", () => {
  it("a write replaces the file when the hash still matches, keeping a backup and mode 0600", () => {
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    writeFileSync(file(), "old\n", { mode: 0o600 });
    const written = write(home, hashOf(Buffer.from("old\n")), "new\n");
    expect(written.code).toBe(EXIT.OK);
    expect(readFileSync(file(), "utf8")).toBe("new\n");
    expect(readFileSync(join(home, ".ssh", ".keyheal-backup.authorized_keys"), "utf8")).toBe(
      "old\n",
    );
    expect(execFileSync("stat", ["-c", "%a", file()]).toString().trim()).toBe("600");
    expect(readdirSync(join(home, ".ssh")).filter((f) => f.startsWith(".keyheal-tmp"))).toEqual([]);
  });

  it("a write takes its data from kh_input, or from stdin as a step run as another user does, byte for byte", () => {
    const data = `a\r\nb\u0000c'$(id)\n${"x".repeat(3000)}`;
    for (const viaStdin of [false, true]) {
      mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
      writeFileSync(file(), "old\n", { mode: 0o600 });
      const written = runStep(
        home,
        "kh_write",
        ["", hashOf(Buffer.from("old\n")), ...PATH],
        data,
        viaStdin,
      );
      expect(written.code).toBe(EXIT.OK);
      expect(readFileSync(file()).equals(Buffer.from(data))).toBe(true);
    }
  });

  it("a write refuses when the file changed since it was read, and leaves no temp file", () => {
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    writeFileSync(file(), "someone else wrote this\n");
    expect(write(home, hashOf(Buffer.from("old\n")), "new\n").code).toBe(EXIT.CHANGED);
    expect(readFileSync(file(), "utf8")).toBe("someone else wrote this\n");
    expect(readdirSync(join(home, ".ssh")).filter((f) => f.startsWith(".keyheal-tmp"))).toEqual([]);
  });

  it("creates a missing ~/.ssh with mode 0700 and treats a missing file as 'absent'", () => {
    expect(read(home).code).toBe(EXIT.ABSENT);
    expect(write(home, "absent", "k\n").code).toBe(EXIT.OK);
    expect(
      execFileSync("stat", ["-c", "%a", join(home, ".ssh")])
        .toString()
        .trim(),
    ).toBe("700");
    expect(readFileSync(file(), "utf8")).toBe("k\n");
  });

  it("reads the exact bytes, CRLF and missing final newline included", () => {
    mkdirSync(join(home, ".ssh"));
    writeFileSync(file(), "a\r\nb");
    expect(read(home)).toMatchObject({ code: 0, stdout: "a\r\nb" });
  });

  it("refuses a file larger than the limit without printing it", () => {
    mkdirSync(join(home, ".ssh"));
    writeFileSync(file(), "x".repeat(5000));
    const result = runStep(home, "kh_read", ["", "4096", ...PATH]);
    expect(result).toMatchObject({ code: EXIT.TOO_LARGE, stdout: "" });
  });

  it("refuses a symlinked authorized_keys and a symlinked ~/.ssh on every step", () => {
    mkdirSync(join(home, "elsewhere"));
    writeFileSync(join(home, "elsewhere", "keys"), "x\n");
    mkdirSync(join(home, ".ssh"));
    symlinkSync(join(home, "elsewhere", "keys"), file());
    expect(read(home).code).toBe(EXIT.SYMLINK);
    expect(write(home, "absent", "y\n").code).toBe(EXIT.SYMLINK);
    expect(readFileSync(join(home, "elsewhere", "keys"), "utf8")).toBe("x\n");
    const other = mkdtempSync(join(tmpdir(), "keyheal-script-"));
    symlinkSync(join(home, "elsewhere"), join(other, ".ssh"));
    expect(read(other).code).toBe(EXIT.SYMLINK);
  });

  it("refuses a path that is not a regular file", () => {
    mkdirSync(join(home, ".ssh", "authorized_keys"), { recursive: true });
    expect(read(home).code).toBe(EXIT.NOT_REGULAR);
  });

  it("a stale temp file from an interrupted run is cleaned up by the next write", () => {
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    writeFileSync(join(home, ".ssh", ".keyheal-tmp.stale123"), "half");
    expect(write(home, "absent", "k\n").code).toBe(EXIT.OK);
    expect(existsSync(join(home, ".ssh", ".keyheal-tmp.stale123"))).toBe(false);
  });

  it("expands %h, %u and %U segments on the device", () => {
    const uid = execFileSync("id", ["-u"]).toString().trim();
    const segments = authorizedKeysPathSegments("%h/keys/%u.%U", "alice");
    mkdirSync(join(home, "keys"));
    writeFileSync(join(home, "keys", `alice.${uid}`), "found\n");
    expect(runStep(home, "kh_read", ["", "100", ...segments]).stdout).toBe("found\n");
  });
});
