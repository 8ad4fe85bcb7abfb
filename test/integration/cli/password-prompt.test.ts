/**
 * The hidden prompt on a real terminal: `bin/keyheal keys import --passphrase-stdin` runs under
 * `script`, which gives it a pseudo-terminal, and the test types on it as a user would, editing
 * keys included. The passphrase the CLI sends is read by a loopback HTTP server standing in for
 * the API (its answer does not matter; the request body is what is asserted).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "../../../lib/keys/index.ts";
import { KEYHEAL } from "../../harness/cli.ts";

const LEFT = "\u001b[D";
const RIGHT = "\u001b[C";
const UP = "\u001b[A";
const DELETE = "\u001b[3~";
const HOME = "\u001b[H";
const BACKSPACE = "\u007f";
const CTRL_U = "\u0015";
const CTRL_C = "\u0003";

let dir: string;
let server: Server;
let bodies: unknown[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "keyheal-prompt-"));
  await writeFile(join(dir, "fleet.key"), generateKeyPair().privateKey, { mode: 0o600 });
  server = createServer((request, response) => {
    let text = "";
    request.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    request.on("end", () => {
      bodies.push(JSON.parse(text));
      response.writeHead(400, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: "BadRequest", message: "recorded" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/**
 * Runs `keys import` on a pseudo-terminal, waits for its prompt, types `keystrokes` one chunk at
 * a time (as a terminal delivers key presses) and resolves with what the terminal showed.
 */
function typeAtPrompt(
  keystrokes: readonly string[],
): Promise<{ code: number | null; screen: string }> {
  const { port } = server.address() as AddressInfo;
  const command = `'${KEYHEAL}' keys import --private-key '${join(dir, "fleet.key")}' --passphrase-stdin`;
  const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: dir,
      TERM: "xterm",
      KEYHEAL_API: `http://127.0.0.1:${port}`,
      KEYHEAL_TOKEN: "prompt-test-token",
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let screen = "";
  let typed = false;
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  return new Promise((resolve, reject) => {
    child.stdout.on("data", async (chunk: Buffer) => {
      screen += chunk.toString("utf8");
      if (typed || !screen.includes("Passphrase: ")) return;
      typed = true;
      for (const keys of keystrokes) {
        child.stdin.write(keys);
        await new Promise((pause) => setTimeout(pause, 40));
      }
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}

describe("the hidden passphrase prompt on a terminal", () => {
  it("issue 14.6: arrow keys, Home, Delete and Backspace edit the line and never enter the secret", async () => {
    bodies = [];
    // "ab", left, "c" → "acb"; Delete erases the b under the cursor → "ac"; "d" → "acd";
    // right and up do nothing at the end of a line without history; "e" → "acde";
    // Home, "x" → "xacde"; Backspace erases the x again; Enter.
    const typed = await typeAtPrompt([
      "ab",
      LEFT,
      "c",
      DELETE,
      "d",
      RIGHT,
      UP,
      "e",
      HOME,
      "x",
      BACKSPACE,
      "\r",
    ]);
    expect(bodies).toEqual([expect.objectContaining({ passphrase: "acde" })]);
    // Nothing typed is echoed: the screen holds the prompt, a newline and the CLI's own message.
    expect(typed.screen).not.toMatch(/acde|xacde/);
    expect(typed.code).toBe(2);
  });

  it("issue 14.6: Ctrl-U clears what was typed, and Ctrl-C aborts without sending anything", async () => {
    bodies = [];
    const cleared = await typeAtPrompt(["wrong", CTRL_U, "right", "\r"]);
    expect(bodies).toEqual([expect.objectContaining({ passphrase: "right" })]);
    expect(cleared.code).toBe(2);

    bodies = [];
    const aborted = await typeAtPrompt(["secret", CTRL_C]);
    expect(bodies).toEqual([]);
    expect(aborted.screen).toContain("no passphrase given (interrupted)");
    expect(aborted.code).toBe(2);
  });
});
