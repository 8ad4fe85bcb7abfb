import type { Logger } from "@aws-lambda-powertools/logger";
import { ulid } from "ulid";
import type { ResolveStarted } from "../../contract/api.ts";
import { KeyError, MissingPassphraseError, WrongPassphraseError } from "../../keys/errors.ts";
import { importPrivateKey } from "../../keys/index.ts";
import type { SecretStore } from "../../keys/store-types.ts";
import { NotFoundError } from "../../store/errors.ts";
import type { ResolveInput } from "../../workflows/tasks/resolve.ts";
import { BadRequestError } from "../errors.ts";
import { operatorRunName } from "../run-names.ts";
import { parseRequest, ResolveBody, type ResolveRequest } from "../schemas.ts";
import type { ApiHandler } from "../types.ts";

export const DEFAULT_RESOLVE_SECRET_TTL_SECONDS = 900;

/** What one device's run logs in with: its own secret or the request's. */
interface DeviceCredential {
  secret: string;
  passphrase: string | undefined;
  /** Where the secret came from, for an error naming the field to fix. */
  field: string;
}

function credentialsOf(request: ResolveRequest): DeviceCredential[] {
  return request.devices.map((target, index) => {
    if (request.mode === "space-key") {
      const own = "password" in target ? target.password : undefined;
      return {
        secret: (own ?? request.password) as string,
        passphrase: undefined,
        field: own === undefined ? "password" : `devices[${index}].password`,
      };
    }
    const own = "privateKey" in target ? target.privateKey : undefined;
    const ownPassphrase = "passphrase" in target ? target.passphrase : undefined;
    return {
      secret: (own ?? request.privateKey) as string,
      passphrase: ownPassphrase ?? request.passphrase,
      field: own === undefined ? "privateKey" : `devices[${index}].privateKey`,
    };
  });
}

/** Opens every distinct custom key once; a key that does not open is a 400 naming its field. */
function checkKeys(credentials: readonly DeviceCredential[]): void {
  const checked = new Set<string>();
  for (const credential of credentials) {
    const id = `${credential.secret}\u0000${credential.passphrase ?? ""}`;
    if (checked.has(id)) continue;
    checked.add(id);
    try {
      importPrivateKey(credential.secret, { passphrase: credential.passphrase });
    } catch (error) {
      if (!(error instanceof KeyError)) throw error;
      const passphraseProblem =
        error instanceof MissingPassphraseError || error instanceof WrongPassphraseError;
      const field = passphraseProblem
        ? credential.field.replace(/privateKey$/, "passphrase")
        : credential.field;
      throw new BadRequestError(field, `Invalid request: ${field}: ${error.message}`, undefined, {
        cause: error,
      });
    }
  }
}

/**
 * Deletes secrets a run will never read. A delete that fails is logged (names only) and left to
 * the expiry sweep, so the start's own error is the one the caller sees.
 */
async function forget(
  secrets: SecretStore,
  refs: readonly string[],
  logger: Pick<Logger, "warn">,
): Promise<void> {
  for (const ref of refs) {
    await secrets.delete(ref).catch((error: unknown) => {
      logger.warn("operator secret left to the expiry sweep", { ref, error });
    });
  }
}

/**
 * `POST /devices/resolve`: one resolve run per device. Each device's password or private key
 * (and its passphrase) goes to the secret store with a short life, one copy per run since each
 * run forgets its own; only references enter the run input, so no run history holds them. A run
 * that fails to start has its secrets deleted at once.
 *
 * Everything is checked before anything starts: every device must be registered (404 naming
 * the first that is not), and every custom key must open with its passphrase (400 on the key's
 * or passphrase's field). The runs form one job, read back for progress with `GET /jobs/{id}`.
 * 202 with `{ jobId, runs: [{ deviceId, runId }] }`.
 */
export const resolveDevices: ApiHandler = async (ctx, { body }) => {
  const request = parseRequest(ResolveBody, body, "(body)");
  const { deps } = ctx;
  for (const target of request.devices) {
    if (!(await deps.devices.get(target.id))) throw new NotFoundError("device", target.id);
  }
  const credentials = credentialsOf(request);
  if (request.mode === "custom-key") checkKeys(credentials);
  const ttlSeconds = ctx.resolveSecretTtlSeconds ?? DEFAULT_RESOLVE_SECRET_TTL_SECONDS;
  const runs: Array<{ deviceId: string; runId: string }> = [];
  for (const [index, target] of request.devices.entries()) {
    const credential = credentials[index] as DeviceCredential;
    const runName = operatorRunName("resolve", target.id);
    // What this device's run would forget; deleted here if the run never starts.
    const stored: string[] = [];
    let runId: string;
    try {
      const secretRef = await deps.secrets.put(`resolve/${runName}/credential`, credential.secret, {
        ttlSeconds,
      });
      stored.push(secretRef);
      const passphraseRef =
        credential.passphrase !== undefined
          ? await deps.secrets.put(`resolve/${runName}/passphrase`, credential.passphrase, {
              ttlSeconds,
            })
          : null;
      if (passphraseRef) stored.push(passphraseRef);
      const input: Required<ResolveInput> = {
        deviceId: target.id,
        mode: request.mode,
        adminUser: target.adminUser,
        loginUser:
          "loginUser" in target && target.loginUser !== undefined ? target.loginUser : null,
        secretRef,
        passphraseRef,
        adopt: request.mode === "custom-key" && request.adopt !== undefined ? request.adopt : null,
      };
      ({ runId } = await ctx.starter.start("resolve", runName, input));
    } catch (error) {
      await forget(deps.secrets, stored, deps.logger);
      throw error;
    }
    deps.logger.info("resolve started", { deviceId: target.id, mode: request.mode, runId });
    runs.push({ deviceId: target.id, runId });
  }
  const jobId = `job-${ulid()}`;
  await ctx.jobs.create({ id: jobId, kind: "resolve", createdAt: deps.now().toISOString(), runs });
  deps.logger.info("resolve job created", { jobId, devices: runs.length });
  return { status: 202, body: { jobId, runs } satisfies ResolveStarted };
};
