import { spawn } from "node:child_process";

export const KEYHEAL = new URL("../../bin/keyheal", import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `bin/keyheal args…` in `cwd`, with only PATH, HOME (= `cwd`) and KEYHEAL_DATA_DIR in its
 * environment, so the developer's own KEYHEAL_* or AWS_* variables never leak in.
 */
export function runKeyheal(
  args: readonly string[],
  options: { cwd: string; dataDir: string; stdin?: string },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(KEYHEAL, args, {
      cwd: options.cwd,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: options.cwd,
        KEYHEAL_DATA_DIR: options.dataDir,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? "");
  });
}
