import { afterAll, beforeAll, vi } from "vitest";
import { protocolScenarios } from "../../harness/protocol-scenarios.ts";
import { SimulatedTestDevice } from "../../harness/simulated.ts";

// The protocol's scenarios on the in-process ssh2 device: no root, no sshd. The same list runs on
// real sshd in test/integration/heal-device.test.ts.
let device: SimulatedTestDevice;
// Each scenario is two or three SSH handshakes and a few shell steps: well under a second on an
// idle machine, several on a loaded one.
vi.setConfig({ testTimeout: 20_000 });

beforeAll(async () => {
  device = await SimulatedTestDevice.start();
});
afterAll(async () => device?.stop());

protocolScenarios(() => device);
