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
import { hashOf, permissionBits, umaskFor } from "../../../lib/replace/remote.ts";
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
 * Runs one library step with the local POSIX sh (dash), as the remote shell runs it (in the shell
 * itself, no subshell): its data in the function `kh_input`; or, with `viaStdin`, piped to it as
 * a step run as another user gets it.
 */
function runStep(home: string, name: StepName, args: string[], input?: string, viaStdin = false) {
  const bytes = input === undefined ? undefined : Buffer.from(input);
  const step =
    bytes !== undefined && viaStdin
      ? `${printfBytes(bytes)} | ( ${stepCommand(name, args)} )`
      : `{ ${inputFunction(bytes)}${stepCommand(name, args)}; } </dev/null`;
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
/** A write as the first write of a heal makes it: the file's mode as read, a backup. */
const write = (home: string, hash: string, content: string, mask = "077", backup = "1") =>
  runStep(home, "kh_write", ["", hash, mask, backup, ...PATH], content);
/** The mode line the read prints before the bytes. */
const withoutMode = (stdout: string) => stdout.slice(stdout.indexOf("\n") + 1);

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
        ["", hashOf(Buffer.from("old\n")), "077", "1", ...PATH],
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
    expect(read(home)).toMatchObject({ code: 0, stdout: "-rw-r--r--\na\r\nb" });
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
    expect(withoutMode(runStep(home, "kh_read", ["", "100", ...segments]).stdout)).toBe("found\n");
  });

  it("a write keeps the mode the read saw (by umask, no copy), and a new file is 0600", () => {
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    writeFileSync(file(), "old\n", { mode: 0o640 });
    const seen = read(home);
    expect(seen.stdout.split("\n")[0]).toBe("-rw-r-----");
    const mask = umaskFor(permissionBits(seen.stdout.split("\n")[0] ?? ""));
    expect(mask).toBe("137");
    expect(write(home, hashOf(Buffer.from("old\n")), "new\n", mask).code).toBe(EXIT.OK);
    expect(execFileSync("stat", ["-c", "%a", file()]).toString().trim()).toBe("640");
    const fresh = mkdtempSync(join(tmpdir(), "keyheal-script-"));
    expect(write(fresh, "absent", "k\n", umaskFor(undefined)).code).toBe(EXIT.OK);
    expect(
      execFileSync("stat", ["-c", "%a", join(fresh, ".ssh", "authorized_keys")])
        .toString()
        .trim(),
    ).toBe("600");
  });

  it("a write without a backup (the prune's) leaves the first write's backup as it was", () => {
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    writeFileSync(file(), "original\n", { mode: 0o600 });
    expect(write(home, hashOf(Buffer.from("original\n")), "both\n").code).toBe(EXIT.OK);
    expect(write(home, hashOf(Buffer.from("both\n")), "new\n", "077", "0").code).toBe(EXIT.OK);
    expect(readFileSync(file(), "utf8")).toBe("new\n");
    expect(readFileSync(join(home, ".ssh", ".keyheal-backup.authorized_keys"), "utf8")).toBe(
      "original\n",
    );
  });

  it("steps run in the shell itself leave no input function or noclobber behind for the next step", () => {
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    writeFileSync(file(), "old\n", { mode: 0o644 });
    const steps = [
      `{ ${inputFunction(Buffer.from("new\n"))}${stepCommand("kh_write", ["", hashOf(Buffer.from("old\n")), "022", "1", ...PATH])}; } </dev/null; echo "w=$?"; unset -f kh_input`,
      // A refused write (wrong hash) in the same shell: no option or function left behind.
      `{ ${stepCommand("kh_write", ["", "0", "022", "1", ...PATH])}; } </dev/null 2>/dev/null; echo "r=$?"`,
      `command -v kh_input >/dev/null || echo no-input; case $- in *C*) echo noclobber;; *) echo clobber;; esac; umask`,
    ].join("\n");
    const out = execFileSync("sh", ["-c", `${shellLibrary(process.getuid?.() ?? -1)}\n${steps}`], {
      env: { HOME: home, PATH: process.env.PATH ?? "/usr/bin:/bin" },
      cwd: home,
    }).toString();
    expect(out.split("\n")).toEqual([
      "w=0",
      `r=${EXIT.CHANGED}`,
      "no-input",
      "clobber",
      "0077",
      "",
    ]);
    expect(execFileSync("stat", ["-c", "%a", file()]).toString().trim()).toBe("644");
  });
});

describe("permissionBits and umaskFor", () => {
  it("reads ls -l mode fields, with an ACL or SELinux mark after them", () => {
    expect(permissionBits("-rw-------")).toBe(0o600);
    expect(permissionBits("-rw-r--r--.")).toBe(0o644);
    expect(permissionBits("-rwxr-x--x+")).toBe(0o751);
    expect(permissionBits("drwx------")).toBeUndefined();
    expect(permissionBits("garbage")).toBeUndefined();
  });

  it("gives the umask that makes a file with the same read and write bits", () => {
    expect(umaskFor(0o600)).toBe("177");
    expect(umaskFor(0o644)).toBe("133");
    expect(umaskFor(0o755)).toBe("133");
    expect(umaskFor(undefined)).toBe("177");
  });
});
