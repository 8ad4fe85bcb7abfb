import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
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
import { hashOf } from "../../../lib/replace/remote.ts";
import {
  EXIT,
  SCRIPTS,
  type ScriptName,
  scriptCommand,
  shQuote,
} from "../../../lib/replace/remote-scripts.ts";

/** Runs a remote step with the local POSIX sh (dash), the way sshd would run it. */
function runStep(home: string, name: ScriptName, args: string[], stdin = "") {
  const result = spawnSync("sh", ["-c", SCRIPTS[name], `keyheal-${name}`, ...args], {
    env: { HOME: home, PATH: process.env.PATH ?? "/usr/bin:/bin" },
    cwd: home,
    input: stdin,
  });
  return {
    code: result.status,
    stdout: result.stdout.toString(),
    stderr: result.stderr.toString(),
  };
}

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

  it("builds a sudo command whose only secret channel is stdin", () => {
    const command = scriptCommand("READ", [".ssh/authorized_keys", "bob"], "sudo");
    expect(command.startsWith("sudo -S -p '' sh -c ")).toBe(true);
  });
});

describe("remote steps run by sh", () => {
  it("stage then commit replaces the file when the hash still matches, keeping a backup", () => {
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    writeFileSync(file(), "old\n");
    const staged = runStep(home, "STAGE", [".ssh/authorized_keys", ""], "new\n");
    expect(staged.code).toBe(EXIT.OK);
    const temp = staged.stdout.trim();
    expect(readFileSync(temp, "utf8")).toBe("new\n");
    const committed = runStep(home, "COMMIT", [
      ".ssh/authorized_keys",
      "",
      temp,
      hashOf(Buffer.from("old\n")),
    ]);
    expect(committed.code).toBe(EXIT.OK);
    expect(readFileSync(file(), "utf8")).toBe("new\n");
    expect(readFileSync(join(home, ".ssh", ".keyheal-backup.authorized_keys"), "utf8")).toBe(
      "old\n",
    );
    expect(execFileSync("stat", ["-c", "%a", file()]).toString().trim()).toBe("600");
  });

  it("commit refuses when the file changed since it was read, and removes the temp file", () => {
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    writeFileSync(file(), "old\n");
    const temp = runStep(home, "STAGE", [".ssh/authorized_keys", ""], "new\n").stdout.trim();
    writeFileSync(file(), "someone else wrote this\n");
    const committed = runStep(home, "COMMIT", [
      ".ssh/authorized_keys",
      "",
      temp,
      hashOf(Buffer.from("old\n")),
    ]);
    expect(committed.code).toBe(EXIT.CHANGED);
    expect(readFileSync(file(), "utf8")).toBe("someone else wrote this\n");
    expect(existsSync(temp)).toBe(false);
  });

  it("creates a missing ~/.ssh with mode 0700 and treats a missing file as 'absent'", () => {
    expect(runStep(home, "READ", [".ssh/authorized_keys", ""]).code).toBe(EXIT.ABSENT);
    const temp = runStep(home, "STAGE", [".ssh/authorized_keys", ""], "k\n").stdout.trim();
    expect(runStep(home, "COMMIT", [".ssh/authorized_keys", "", temp, "absent"]).code).toBe(
      EXIT.OK,
    );
    expect(
      execFileSync("stat", ["-c", "%a", join(home, ".ssh")])
        .toString()
        .trim(),
    ).toBe("700");
    expect(readFileSync(file(), "utf8")).toBe("k\n");
  });

  it("refuses a symlinked authorized_keys and a symlinked ~/.ssh on every step", () => {
    mkdirSync(join(home, "elsewhere"));
    writeFileSync(join(home, "elsewhere", "keys"), "x\n");
    mkdirSync(join(home, ".ssh"));
    symlinkSync(join(home, "elsewhere", "keys"), file());
    for (const step of ["READ", "STAGE"] as const) {
      expect(runStep(home, step, [".ssh/authorized_keys", ""], "y\n").code).toBe(EXIT.SYMLINK);
    }
    const other = mkdtempSync(join(tmpdir(), "keyheal-script-"));
    symlinkSync(join(home, "elsewhere"), join(other, ".ssh"));
    expect(runStep(other, "READ", [".ssh/authorized_keys", ""]).code).toBe(EXIT.SYMLINK);
  });

  it("refuses a path that is not a regular file", () => {
    mkdirSync(join(home, ".ssh", "authorized_keys"), { recursive: true });
    expect(runStep(home, "READ", [".ssh/authorized_keys", ""]).code).toBe(EXIT.NOT_REGULAR);
  });

  it("a stale temp file from an interrupted run is cleaned up by the next stage", () => {
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    writeFileSync(join(home, ".ssh", ".keyheal-tmp.stale123"), "half");
    runStep(home, "STAGE", [".ssh/authorized_keys", ""], "k\n");
    const left = readdirSync(join(home, ".ssh")).filter((f) => f.startsWith(".keyheal-tmp"));
    expect(left).toHaveLength(1);
    expect(left[0]).not.toBe(".keyheal-tmp.stale123");
  });

  it("commit only accepts temp files it staged", () => {
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    writeFileSync(join(home, "evil"), "x\n");
    chmodSync(join(home, "evil"), 0o600);
    expect(
      runStep(home, "COMMIT", [".ssh/authorized_keys", "", join(home, "evil"), "absent"]).code,
    ).toBe(EXIT.BAD_TEMP);
  });
});
