import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair, type KeyPair } from "../../../lib/keys/index.ts";
import type { LocalHandler, LocalWorkflowRunner } from "../../../lib/local/workflow-runner.ts";
import type { WorkflowDeps } from "../../../lib/workflows/deps.ts";
import { retireGenerations } from "../../../lib/workflows/tasks/rotate.ts";
import type { TestDevice } from "../../harness/fleet.ts";
import { startWorkflowEnv, type WorkflowEnv } from "../../harness/workflow-env.ts";

/**
 * A generation may only be retired when every device has been proven, on a connection, to hold
 * a newer one. The faults are injected around the real handlers: the heal itself runs against a
 * real sshd, and only its answer is lost, as when a connection or a Lambda dies after the write.
 */

let env: WorkflowEnv;
let deps: WorkflowDeps;
let runner: LocalWorkflowRunner;
let d: TestDevice;
let counter = 0;
const faults = { failDetectRecord: false, rotateBeforeMark: false };

function lostAnswer(): Error {
  const error = new Error(
    JSON.stringify({
      cause: "CONNECTION_LOST",
      operation: "VERIFY",
      message: "injected: the connection died during the re-verification after the prune",
    }),
  );
  error.name = "Keyheal.Failed";
  return error;
}

beforeAll(async () => {
  env = await startWorkflowEnv({
    name: "ret",
    devices: 1,
    local: { sshTimeouts: { handshakeMs: 1500, connectMs: 1500 } },
    runner: {
      wrap: ({ stateName }, handler): LocalHandler => {
        if (stateName === "MarkHealed") {
          return async (input) => {
            if (faults.rotateBeforeMark) await deps.keys.add(generateKeyPair());
            return handler(input);
          };
        }
        return handler;
      },
    },
  });
  ({ deps, runner } = env);
  d = env.device(0);
});
afterAll(async () => {
  await env?.stop();
});

async function reconnect() {
  const name = `ret-${++counter}`;
  return (await runner.start("reconnect", name, { deviceId: d.id, trigger: "device", attempt: 1 }))
    .done;
}

async function rotateWhileDown() {
  await d.stop();
  try {
    const run = await (await runner.start("rotate", `rot-${++counter}`, { algorithm: "ed25519" }))
      .done;
    expect(run.progress).toMatchObject({ total: 1, failed: 1 });
    return run;
  } finally {
    await d.start();
    await env.register(d);
  }
}

const blobOf = (key: KeyPair | string) =>
  (typeof key === "string" ? key : key.authorizedKey).split(" ")[1] as string;

describe("retiring generations", () => {
  it("issue 10.1: a heal that fails after its write keeps the device's only key from retirement; the device heals on reconnect", async () => {
    const gen1 = generateKeyPair();
    await deps.keys.add(gen1);
    await d.resetHome(`${gen1.authorizedKey}\n`);
    await env.register(d);
    expect((await reconnect()).status).toBe("SUCCEEDED");
    expect(await deps.devices.get(d.id)).toMatchObject({ keyGeneration: 1 });

    await rotateWhileDown(); // generation 2

    // The heal writes and verifies generation 2, then the store fails as Detect records it.
    const update = deps.devices.update.bind(deps.devices);
    deps.devices.update = async (id, change, fence) => {
      if (faults.failDetectRecord && change.keyProvenAt && !change.status) {
        faults.failDetectRecord = false;
        throw lostAnswer();
      }
      return update(id, change, fence);
    };
    faults.failDetectRecord = true;
    const failed = await reconnect().finally(() => {
      faults.failDetectRecord = false;
      deps.devices.update = update;
    });
    expect(failed.status).toBe("FAILED");
    const gen2 = (await deps.keys.get(2))?.publicKey as string;
    // The heal pruned generation 1: the device now accepts generation 2 only.
    expect((await d.readAuthorizedKeys()).toString()).toBe(`${gen2}\n`);
    expect(await deps.devices.get(d.id)).toMatchObject({ keyGeneration: 1 });

    const rotated = await rotateWhileDown(); // generation 3
    expect(rotated.output).toMatchObject({ retired: { retired: [] } });
    expect((await deps.keys.get(2))?.status).toBe("PREVIOUS");

    const healed = await reconnect();
    expect(healed.status).toBe("SUCCEEDED");
    expect(await deps.devices.get(d.id)).toMatchObject({ status: "KEY_BASED", keyGeneration: 3 });
    const gen3 = (await deps.keys.get(3))?.publicKey as string;
    expect((await d.readAuthorizedKeys()).toString()).toBe(`${gen3}\n`);
    expect(blobOf(gen3)).not.toBe(blobOf(gen2));

    // Once the device is proven on generation 3, the older ones go.
    expect(await retireGenerations(deps, { generation: 3 })).toMatchObject({ retired: [2, 1] });
  });

  it("issue 10.1: the device is recorded on the generation Detect installed and verified, not one a rotation made mid-run", async () => {
    await deps.keys.add(generateKeyPair()); // generation 4: the device (on 3) is in conflict
    faults.rotateBeforeMark = true; // generation 5 appears between the heal (Detect) and MarkHealed
    const run = await reconnect().finally(() => {
      faults.rotateBeforeMark = false;
    });
    expect(run.status).toBe("SUCCEEDED");
    expect((await deps.keys.current())?.generation).toBe(5);
    expect(await deps.devices.get(d.id)).toMatchObject({ status: "KEY_BASED", keyGeneration: 4 });
    expect((await d.readAuthorizedKeys()).toString()).toBe(
      `${(await deps.keys.get(4))?.publicKey}\n`,
    );
  });
});
