/**
 * DynamoDB Local for the stack tests: the one `KEYHEAL_DYNAMODB_ENDPOINT` names, or one started
 * here with test/harness/dynamodb-local.sh (on its own port, so a store suite running at the same
 * time keeps its own) and stopped at the end.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";
import { ENDPOINT_VARIABLE } from "../harness/dynamo.ts";

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

const run = promisify(execFile);
const SCRIPT = "test/harness/dynamodb-local.sh";
const PORT = process.env.KEYHEAL_STACK_DYNAMODB_PORT ?? "8421";

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject) {
  const given = process.env[ENDPOINT_VARIABLE];
  if (given) {
    project.provide("dynamoEndpoint", given);
    return;
  }
  const env = { ...process.env, KEYHEAL_DYNAMODB_LOCAL_PORT: PORT };
  const already = await answers(`http://127.0.0.1:${PORT}`);
  const { stdout } = await run("bash", [SCRIPT, "start"], { env, timeout: 180_000 });
  project.provide("dynamoEndpoint", stdout.trim().split("\n").at(-1) ?? "");
  return async () => {
    if (!already) await run("bash", [SCRIPT, "stop"], { env });
  };
}
