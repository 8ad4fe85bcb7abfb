/**
 * Issue 14.7, the conventions a user of any command line expects: `--version` anywhere and a
 * `version` command, JSON errors with `--json`, completion scripts generated from the command
 * table, and tables that fit the terminal.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { afterAll, describe, expect, it, vi } from "vitest";
import { completionScript } from "../../../lib/cli/completion.ts";
import { cliEnvFrom } from "../../../lib/cli/config.ts";
import { COMMANDS, main } from "../../../lib/cli/main.ts";
import { deviceAnswer, type FakeApi, keyheal, startFakeApi } from "./fake-api.ts";

vi.setConfig({ testTimeout: 30_000 });

const PACKAGE_VERSION = JSON.parse(
  await readFile(new URL("../../../package.json", import.meta.url), "utf8"),
).version as string;

const apis: FakeApi[] = [];
afterAll(async () => {
  await Promise.all(apis.map((api) => api.close()));
});

describe.concurrent("version", () => {
  it("issue 14.7: --version works after any command, and `version` is a command", async () => {
    for (const args of [["--version"], ["devices", "list", "--version"], ["version"]]) {
      const result = await keyheal(args);
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({
        args,
        code: 0,
        stdout: `keyheal ${PACKAGE_VERSION}\n`,
      });
    }
    const json = await keyheal(["version", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual({ version: PACKAGE_VERSION });
  });
});

describe.concurrent("errors with --json", () => {
  it("issue 14.7: a usage error is JSON on stderr with its code, message, field and exit code", async () => {
    const result = await keyheal(["devices", "list", "--limit", "0", "--json"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(JSON.parse(result.stderr)).toEqual({
      error: {
        code: "USAGE",
        message: "--limit must be a whole number of at least 1 (got 0)",
        field: "--limit",
        exitCode: 2,
      },
    });
  });

  it("issue 14.7: an API's 400 keeps the API's code and field", async () => {
    const api = await startFakeApi(() => ({
      status: 400,
      body: { error: "BadRequest", message: "limit: must be at most 500", field: "limit" },
    }));
    apis.push(api);
    const result = await keyheal(["devices", "list", "--json", "--data-dir", api.dataDir]);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stderr)).toEqual({
      error: {
        code: "BadRequest",
        message: "limit: must be at most 500 (GET /devices: 400)",
        field: "limit",
        exitCode: 2,
      },
    });
  });

  it("issue 14.7: no runtime to talk to is JSON too, with a field of null", async () => {
    const result = await keyheal(["devices", "list", "--json", "--data-dir", "/nonexistent"]);
    expect(result.code).toBe(2);
    const body = JSON.parse(result.stderr) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ code: "NO_RUNTIME", field: null, exitCode: 2 });
    expect(body.error.message).toContain("/nonexistent");
  });
});

/** What bash completes for `words` (the last one being typed), with the generated script. */
async function bashComplete(words: readonly string[]): Promise<string[]> {
  const script = completionScript("bash", COMMANDS);
  const program = [
    script,
    `COMP_WORDS=(${words.map((word) => `'${word}'`).join(" ")})`,
    `COMP_CWORD=${words.length - 1}`,
    "_keyheal",
    `printf "%s\\n" "\${COMPREPLY[@]}"`,
  ].join("\n");
  const { stdout } = await promisify(execFile)("bash", ["--norc", "-c", program]);
  return stdout.split("\n").filter((line) => line !== "");
}

describe.concurrent("completion", () => {
  it("issue 14.7: bash completes commands, subcommands and each command's own options", async () => {
    expect(await bashComplete(["keyheal", "fai"])).toEqual(["failures"]);
    expect(await bashComplete(["keyheal", "failures", "s"])).toEqual(["show", "stats"]);
    expect(await bashComplete(["keyheal", "devices", "list", "--st"])).toEqual(["--status"]);
    expect(await bashComplete(["keyheal", "resolve", "--space"])).toEqual(["--space-key"]);
  });

  it("issue 14.7: every command and option of the table is in the zsh and fish scripts", () => {
    const zsh = completionScript("zsh", COMMANDS);
    const fish = completionScript("fish", COMMANDS);
    expect(zsh).toContain("bashcompinit");
    for (const spec of COMMANDS) {
      const last = spec.words.at(-1) as string;
      expect(fish).toContain(`-a ${last} `);
      expect(zsh).toMatch(new RegExp(`\\b${last}\\b`));
    }
    expect(fish).toContain(
      'complete -c keyheal -n "__fish_seen_subcommand_from failures; and __fish_seen_subcommand_from delete" -l yes',
    );
  });

  it("issue 14.7: `keyheal completion` refuses a shell it does not know, naming the ones it does", async () => {
    const ok = await keyheal(["completion", "bash"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(completionScript("bash", COMMANDS));
    const bad = await keyheal(["completion", "tcsh"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('no completion for "tcsh": give one of bash, zsh, fish');
  });
});

describe("width", () => {
  it("issue 14.7: on a 120-column terminal a long device table is cut to fit; in a pipe it is whole", async () => {
    const device = deviceAnswer({
      id: "device-with-a-rather-long-name-in-the-eu-west-region-01",
      host: "ip-10-0-0-5.eu-west-1.compute.internal",
      lastFailureCause: "AUTH_REJECTED",
    });
    const api = await startFakeApi(() => ({ body: { items: [device], nextCursor: null } }));
    apis.push(api);
    const capture = (isTTY: boolean) => {
      const chunks: string[] = [];
      const stdout = { isTTY, columns: 120, write: (chunk: string) => chunks.push(chunk) };
      return { stdout, text: () => chunks.join("") };
    };
    const run = async (isTTY: boolean) => {
      const out = capture(isTTY);
      const code = await main(["devices", "list", "--data-dir", api.dataDir], {
        stdin: new PassThrough(),
        stdout: out.stdout,
        stderr: { write: () => true },
        cwd: "/",
        env: cliEnvFrom({}),
        now: () => new Date(),
      });
      expect(code).toBe(0);
      return out.text().trimEnd().split("\n");
    };
    const terminal = await run(true);
    for (const line of terminal) expect([...line].length).toBeLessThanOrEqual(120);
    expect(terminal[1]).toContain("…");
    expect(terminal[1]).toMatch(/^device-with-a-rather/);
    expect(terminal[1]).toContain("KEY_CONFLICT");
    const piped = await run(false);
    expect(piped[1]).toContain(device.id);
    expect(piped[1]).toContain(device.hostKeyFingerprint);
  });
});

describe.concurrent("devices list --search", () => {
  it("issue 14.9: asks the API to search (q) and says when nothing matches", async () => {
    const api = await startFakeApi(() => ({ body: { items: [], nextCursor: null } }));
    apis.push(api);
    const result = await keyheal([
      "devices",
      "list",
      "--search",
      "web",
      "--status",
      "key_conflict",
      "--data-dir",
      api.dataDir,
    ]);
    expect(result.code).toBe(0);
    expect(api.requests.map((request) => [request.path, request.query])).toEqual([
      ["/devices", { q: "web", status: "KEY_CONFLICT", limit: "100" }],
    ]);
    expect(result.stdout).toBe('No devices match "web" with status KEY_CONFLICT.\n');
  });
});
