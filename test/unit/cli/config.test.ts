import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEnvFrom, dataDirOf, discoverApi, regionOfApiHost } from "../../../lib/cli/config.ts";
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
  it("reads only its variables, treating empty as unset", () => {
    expect(
      cliEnvFrom({
        KEYHEAL_DATA_DIR: " /d ",
        KEYHEAL_API: "",
        KEYHEAL_TOKEN: "t",
        HOME: "/root",
        AWS_DEFAULT_REGION: "us-east-2",
      }),
    ).toStrictEqual({
      dataDir: "/d",
      api: undefined,
      token: "t",
      sigv4: undefined,
      awsRegion: "us-east-2",
    });
    expect(cliEnvFrom({ AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "us-east-2" }).awsRegion).toBe(
      "eu-west-1",
    );
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

describe("a deployed API", () => {
  const deployed = "https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod";

  it.each([
    ["abc123defg.execute-api.eu-west-1.amazonaws.com", "eu-west-1"],
    ["ABC.EXECUTE-API.US-GOV-WEST-1.AMAZONAWS.COM", "us-gov-west-1"],
    ["abc-vpce-0123.execute-api.ap-southeast-2.vpce.amazonaws.com", "ap-southeast-2"],
    ["abc.execute-api.cn-north-1.amazonaws.com.cn", "cn-north-1"],
    ["api.example.com", undefined],
    ["execute-api.eu-west-1.amazonaws.com.evil.example", undefined],
    ["127.0.0.1", undefined],
  ])("%s names region %s", (host, region) => {
    expect(regionOfApiHost(host)).toBe(region);
  });

  it("is signed with the region of its execute-api host, needing no token and ignoring one", async () => {
    const target = await discoverApi(undefined, { api: `${deployed}/`, token: "t" }, root);
    expect(target).toStrictEqual({
      baseUrl: deployed,
      sigv4: { region: "eu-west-1" },
      source: "KEYHEAL_API",
    });
  });

  it("is signed for any https URL with --sigv4 or KEYHEAL_API_SIGV4, in AWS_REGION", async () => {
    const api = "https://keyheal.example.com/v1";
    expect(await discoverApi(undefined, { api, awsRegion: "us-east-2" }, root, true)).toMatchObject(
      { sigv4: { region: "us-east-2" } },
    );
    expect(
      await discoverApi(undefined, { api, sigv4: "true", awsRegion: "us-east-2" }, root),
    ).toMatchObject({ sigv4: { region: "us-east-2" } });
    // KEYHEAL_API_SIGV4=0 leaves an API that is not execute-api to its token.
    expect(await discoverApi(undefined, { api, sigv4: "0", token: "t" }, root)).toMatchObject({
      token: "t",
    });
  });

  it("refuses plain http except on loopback, a region it cannot find, and a sigv4 value it cannot read", async () => {
    await expect(
      discoverApi(undefined, { api: "http://api.example.com", awsRegion: "eu-west-1" }, root, true),
    ).rejects.toThrow("signed calls to a deployed API go over https only");
    expect(
      await discoverApi(
        undefined,
        { api: "http://127.0.0.1:9", awsRegion: "eu-west-1" },
        root,
        true,
      ),
    ).toMatchObject({ baseUrl: "http://127.0.0.1:9", sigv4: { region: "eu-west-1" } });
    await expect(
      discoverApi(undefined, { api: "https://api.example.com" }, root, true),
    ).rejects.toThrow("set AWS_REGION");
    await expect(
      discoverApi(undefined, { api: "https://api.example.com", sigv4: "maybe" }, root),
    ).rejects.toBeInstanceOf(UsageError);
  });

  it("KEYHEAL_API_SIGV4 does not touch a --data-dir runtime", async () => {
    const target = await discoverApi("flag", { sigv4: "1" }, root);
    expect(target).toMatchObject({ token: "flag-token" });
  });
});
