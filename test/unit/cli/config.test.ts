import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEnvFrom, dataDirOf, discoverApi } from "../../../lib/cli/config.ts";
import { RuntimeUnreachableError, UsageError } from "../../../lib/cli/errors.ts";

let root: string;

async function runtimeDir(name: string, url: string, token: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "api-url"), `${url}\n`);
  await writeFile(join(dir, "api-token"), `${token}\n`, { mode: 0o600 });
  return dir;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "keyheal-config-"));
  await runtimeDir("flag", "http://127.0.0.1:1001", "flag-token");
  await runtimeDir("env", "http://127.0.0.1:1002", "env-token");
  await runtimeDir(".keyheal", "http://127.0.0.1:1003/", "default-token");
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("cliEnvFrom", () => {
  it("reads only the three variables, treating empty as unset", () => {
    expect(
      cliEnvFrom({
        KEYHEAL_DATA_DIR: " /d ",
        KEYHEAL_API: "",
        KEYHEAL_TOKEN: "t",
        HOME: "/root",
      }),
    ).toEqual({ dataDir: "/d", api: undefined, token: "t" });
  });
});

describe("discovery precedence", () => {
  const api = { api: "http://127.0.0.1:2000", token: "api-token" };

  it("1. --data-dir wins over every variable", async () => {
    const target = await discoverApi("flag", { ...api, dataDir: join(root, "env") }, root);
    expect(target).toMatchObject({ baseUrl: "http://127.0.0.1:1001", token: "flag-token" });
  });

  it("2. then KEYHEAL_API with KEYHEAL_TOKEN, over KEYHEAL_DATA_DIR", async () => {
    const target = await discoverApi(undefined, { ...api, dataDir: join(root, "env") }, root);
    expect(target).toEqual({
      baseUrl: "http://127.0.0.1:2000",
      token: "api-token",
      source: "KEYHEAL_API",
    });
  });

  it("3. then KEYHEAL_DATA_DIR", async () => {
    const target = await discoverApi(undefined, { dataDir: join(root, "env") }, root);
    expect(target).toMatchObject({ baseUrl: "http://127.0.0.1:1002", token: "env-token" });
  });

  it("4. then ./.keyheal, the URL without its trailing slash", async () => {
    const target = await discoverApi(undefined, {}, root);
    expect(target).toMatchObject({
      baseUrl: "http://127.0.0.1:1003",
      token: "default-token",
      dataDir: join(root, ".keyheal"),
    });
    expect(dataDirOf(undefined, {}, root)).toBe(join(root, ".keyheal"));
  });

  it("refuses KEYHEAL_API without KEYHEAL_TOKEN, and a URL that is not http(s)", async () => {
    await expect(discoverApi(undefined, { api: api.api }, root)).rejects.toThrow(
      "KEYHEAL_API is set but KEYHEAL_TOKEN is not",
    );
    await expect(
      discoverApi(undefined, { api: "ftp://host", token: "t" }, root),
    ).rejects.toBeInstanceOf(UsageError);
  });

  it("says how to start a runtime when the data directory has none", async () => {
    const error = await discoverApi("nowhere", {}, root).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RuntimeUnreachableError);
    expect((error as Error).message).toContain(
      `keyheal local start --data-dir ${join(root, "nowhere")}`,
    );
    expect((error as RuntimeUnreachableError).exitCode).toBe(2);
  });
});
