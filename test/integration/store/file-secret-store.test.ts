import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  InvalidArgumentError,
  InvalidSecretNameError,
  SecretExpiredError,
  SecretNotFoundError,
} from "../../../lib/store/errors.ts";
import { FileSecretStore } from "../../../lib/store/file-secret-store.ts";

let root: string;
let directory: string;
let now: number;
let store: FileSecretStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "keyheal-secrets-"));
  directory = join(root, "data", "secrets");
  now = Date.parse("2025-05-01T08:00:00Z");
  store = new FileSecretStore({ directory, clock: () => now });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe("file secret store", () => {
  it("round-trips a secret; the reference is its name", async () => {
    const ref = await store.put("platform-key/1/01ABC", "-----BEGIN OPENSSH PRIVATE KEY-----\n…");
    expect(ref).toBe("platform-key/1/01ABC");
    expect(await store.get(ref)).toBe("-----BEGIN OPENSSH PRIVATE KEY-----\n…");
    await store.put(ref, "second version");
    expect(await store.get(ref)).toBe("second version");
  });

  it("keeps each secret in a 0600 file inside a 0700 directory", async () => {
    await store.put("operator/password", "hunter2");
    expect(await mode(directory)).toBe(0o700);
    const files = await readdir(directory);
    expect(files).toHaveLength(1);
    expect(await mode(join(directory, files[0] as string))).toBe(0o600);
  });

  it("narrows an existing, looser directory to 0700", async () => {
    await mkdir(directory, { recursive: true, mode: 0o755 });
    await store.put("a", "b");
    expect(await mode(directory)).toBe(0o700);
  });

  it("refuses names that would climb out of the directory, and touches nothing outside", async () => {
    const outside = join(root, "data", "victim.secret");
    await mkdir(join(root, "data"));
    await writeFile(outside, "keep me");
    for (const name of [
      "../victim",
      "a/../../victim",
      "/etc/passwd",
      "..",
      ".",
      "a//b",
      "a\\..\\b",
      "nul\0byte",
      "",
    ]) {
      await expect(store.put(name, "x"), name).rejects.toBeInstanceOf(InvalidSecretNameError);
      await expect(store.get(name), name).rejects.toBeInstanceOf(InvalidSecretNameError);
      await expect(store.delete(name), name).rejects.toBeInstanceOf(InvalidSecretNameError);
    }
    expect(await readFile(outside, "utf8")).toBe("keep me");
  });

  it("keeps distinct names in distinct files (no collisions from encoding)", async () => {
    await store.put("a/b", "slash");
    await store.put("a_b", "underscore");
    await store.put("a.b", "dot");
    await store.put("a%2Fb".replace("%", "="), "equals");
    expect(await store.get("a/b")).toBe("slash");
    expect(await store.get("a_b")).toBe("underscore");
    expect(await store.get("a.b")).toBe("dot");
    expect(await store.get("a=2Fb")).toBe("equals");
    expect(await readdir(directory)).toHaveLength(4);
  });

  it("a short-lived secret is refused and deleted once its time to live has passed", async () => {
    const ref = await store.put("resolve/run-1/password", "s3cret", { ttlSeconds: 600 });
    now += 599_000;
    expect(await store.get(ref)).toBe("s3cret");
    now += 1_000;
    await expect(store.get(ref)).rejects.toBeInstanceOf(SecretExpiredError);
    expect(await readdir(directory)).toEqual([]);
    await expect(store.get(ref)).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it("purges expired secrets and keeps the others", async () => {
    await store.put("short/1", "a", { ttlSeconds: 60 });
    await store.put("short/2", "b", { ttlSeconds: 60 });
    await store.put("lasting", "c");
    now += 61_000;
    expect(await store.purgeExpired()).toBe(2);
    expect(await store.get("lasting")).toBe("c");
    expect(await readdir(directory)).toHaveLength(1);
  });

  it("refuses a non-positive time to live", async () => {
    await expect(store.put("x", "y", { ttlSeconds: 0 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it("deleting is idempotent; a missing secret is SecretNotFoundError", async () => {
    await store.put("gone", "x");
    await store.delete("gone");
    await store.delete("gone");
    await expect(store.get("gone")).rejects.toBeInstanceOf(SecretNotFoundError);
  });
});
