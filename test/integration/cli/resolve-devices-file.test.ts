import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { generateKeyPair } from "../../../lib/keys/index.ts";
import { runKeyheal } from "../../harness/cli.ts";
import { type Fleet, startFleet, type TestDevice } from "../../harness/fleet.ts";
import { type RuntimeProcess, startRuntimeProcess } from "../../harness/local-runtime.ts";
import { deviceOf, registration } from "../../harness/runtime-api.ts";

const password = inject("devicePassword");
let fleet: Fleet;
let runtime: RuntimeProcess;
let work: string;
const device = (i: number) => fleet.devices[i] as TestDevice;

const keyheal = (args: string[]) => runKeyheal(args, { cwd: work, dataDir: runtime.dataDir });

beforeAll(async () => {
  fleet = await startFleet(2);
  work = await mkdtemp(join(tmpdir(), "keyheal-cli-devices-file-"));
  runtime = await startRuntimeProcess({ dataDir: join(work, "data"), probeInterval: "0" });
  await runtime.api("POST", "/devices", { devices: fleet.devices.map(registration) });
  const platform = generateKeyPair({ comment: "platform" });
  expect(
    (await runtime.api("POST", "/keys/import", { privateKey: platform.privateKey })).status,
  ).toBe(201);
});

afterAll(async () => {
  await runtime?.stop();
  await fleet?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("keyheal resolve --devices-file on a real runtime", () => {
  it("logs in to each device with its own password; a wrong one fails only its device", async () => {
    const foreign = generateKeyPair({ comment: "changed-by-hand" });
    for (const d of fleet.devices) await d.resetHome(`${foreign.authorizedKey}\n`);
    await writeFile(join(work, "right.pass"), `${password}\n`, { mode: 0o600 });
    await writeFile(join(work, "wrong.pass"), `${password}-not\n`, { mode: 0o600 });
    await writeFile(
      join(work, "site.yaml"),
      [
        "devices:",
        `  - { id: ${device(0).id}, adminUser: ${device(0).user}, passwordFile: right.pass }`,
        `  - { id: ${device(1).id}, adminUser: ${device(1).user}, passwordFile: wrong.pass }`,
      ].join("\n"),
    );
    const result = await keyheal(["resolve", "--devices-file", "site.yaml", "--wait", "--json"]);
    expect(result.code, result.stderr).toBe(1);
    const ended = JSON.parse(result.stdout) as {
      jobId: string;
      items: Array<{ deviceId: string; status: string }>;
    };
    expect(ended.items.map((r) => [r.deviceId, r.status])).toEqual([
      [device(0).id, "SUCCEEDED"],
      [device(1).id, "FAILED"],
    ]);
    expect(await deviceOf(runtime, device(0).id)).toMatchObject({ status: "KEY_BASED" });
    expect(await deviceOf(runtime, device(1).id)).toMatchObject({
      lastFailureCause: "AUTH_REJECTED",
    });
    const job = await keyheal(["jobs", "show", ended.jobId]);
    expect(job.stdout).toContain("1/2 succeeded · 1 failed");
    expect(runtime.output()).not.toContain(password);
  });
});
