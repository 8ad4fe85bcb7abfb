import { importPrivateKey } from "../../keys/index.ts";
import { type Access, healDevice } from "../../replace/heal-device.ts";
import type { WorkflowDeps } from "../deps.ts";
import { toTaskError } from "../task-errors.ts";
import { loadGenerations, targetOf } from "./common.ts";
import { holdLease } from "./lease.ts";

/** Only references to the operator's secrets travel in the workflow, never the secrets. */
export interface ResolveInput {
  deviceId: string;
  mode: "space-key" | "custom-key";
  adminUser: string;
  /** Space key: log in as this user (root or a sudoer) to create a missing admin user. */
  loginUser?: string | null;
  secretRef: string;
  passphraseRef?: string | null;
  /** Custom key: keep it as the device's credential instead of installing the platform key. */
  adopt?: boolean | null;
}

/** The Junos "Resolve Key Conflict" action for one device. */
export async function resolve(deps: WorkflowDeps, input: ResolveInput & { owner?: string | null }) {
  try {
    const device = await holdLease(deps, input, "RESOLVE");
    const adopt = input.mode === "custom-key" && input.adopt === true;
    const generations = adopt ? [] : await loadGenerations(deps, "RESOLVE");
    const secret = await deps.secrets.get(input.secretRef);
    let access: Access;
    if (input.mode === "space-key") {
      access = {
        mode: "password",
        password: secret,
        ...(input.loginUser ? { loginUser: input.loginUser } : {}),
      };
    } else {
      const passphrase = input.passphraseRef
        ? await deps.secrets.get(input.passphraseRef)
        : undefined;
      access = { mode: "custom-key", key: importPrivateKey(secret, { passphrase }), adopt };
    }
    const result = await healDevice({
      device: { ...targetOf(device), adminUser: input.adminUser },
      generations,
      access,
      timeouts: deps.sshTimeouts,
    });
    if (input.adminUser !== device.adminUser) {
      await deps.devices.register({ ...device, adminUser: input.adminUser });
    }
    deps.logger.info("resolved", {
      deviceId: device.id,
      mode: input.mode,
      status: result.status,
      userCreated: result.userCreated,
    });
    return {
      custom: adopt,
      generation: result.generation,
      hostKeyFingerprint: result.hostKeyFingerprint,
      userCreated: result.userCreated,
      handshakes: result.handshakes,
    };
  } catch (error) {
    throw toTaskError(error, "RESOLVE");
  }
}
