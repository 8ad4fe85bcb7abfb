import { ulid } from "ulid";
import { importPrivateKey } from "../../keys/index.ts";
import { NotFoundError } from "../../store/errors.ts";
import type { ResolveInput } from "../../workflows/tasks/resolve.ts";
import { operatorRunName } from "../run-names.ts";
import { parseRequest, ResolveBody } from "../schemas.ts";
import type { ApiHandler } from "../types.ts";

export const DEFAULT_RESOLVE_SECRET_TTL_SECONDS = 900;

/**
 * `POST /devices/resolve`: one resolve run per device. The password or private key (and its
 * passphrase) go to the secret store with a short life, one copy per run since each run forgets
 * its own; only their references enter the run input, so no run history holds them.
 *
 * Everything is checked before anything starts: every device must be registered (404 naming
 * the first that is not), and a custom key must open with its passphrase (400 on `privateKey`
 * or `passphrase`). The runs form one job, read back for progress with `GET /jobs/{id}`.
 * 202 with `{ jobId, runs: [{ deviceId, runId }] }`.
 */
export const resolveDevices: ApiHandler = async (ctx, { body }) => {
  const request = parseRequest(ResolveBody, body, "(body)");
  const { deps } = ctx;
  for (const target of request.devices) {
    if (!(await deps.devices.get(target.id))) throw new NotFoundError("device", target.id);
  }
  if (request.mode === "custom-key") {
    // Fails fast with the key's own error class; the parsed key is dropped, the run re-reads it.
    importPrivateKey(request.privateKey, { passphrase: request.passphrase });
  }
  const ttlSeconds = ctx.resolveSecretTtlSeconds ?? DEFAULT_RESOLVE_SECRET_TTL_SECONDS;
  const runs: Array<{ deviceId: string; runId: string }> = [];
  for (const target of request.devices) {
    const runName = operatorRunName("resolve", target.id);
    const secret = request.mode === "space-key" ? request.password : request.privateKey;
    const secretRef = await deps.secrets.put(`resolve/${runName}/credential`, secret, {
      ttlSeconds,
    });
    const passphraseRef =
      request.mode === "custom-key" && request.passphrase !== undefined
        ? await deps.secrets.put(`resolve/${runName}/passphrase`, request.passphrase, {
            ttlSeconds,
          })
        : null;
    const input: Required<ResolveInput> = {
      deviceId: target.id,
      mode: request.mode,
      adminUser: target.adminUser,
      loginUser: "loginUser" in target && target.loginUser !== undefined ? target.loginUser : null,
      secretRef,
      passphraseRef,
      adopt: request.mode === "custom-key" && request.adopt !== undefined ? request.adopt : null,
    };
    const { runId } = await ctx.starter.start("resolve", runName, input);
    deps.logger.info("resolve started", { deviceId: target.id, mode: request.mode, runId });
    runs.push({ deviceId: target.id, runId });
  }
  const jobId = `job-${ulid()}`;
  await ctx.jobs.create({ id: jobId, kind: "resolve", createdAt: deps.now().toISOString(), runs });
  deps.logger.info("resolve job created", { jobId, devices: runs.length });
  return { status: 202, body: { jobId, runs } };
};
