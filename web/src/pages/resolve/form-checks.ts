import type { ApiError } from "../../api/client.ts";
import { type Device, type ResolveRequest, USERNAME_PATTERN } from "../../api/types.ts";

/** How the operator logs in: the admin password ("Space key") or their own private key. */
export type Mode = "space-key" | "custom-key";

/** One device of the form, with what the operator typed for it. */
export interface Row {
  device: Device;
  adminUser: string;
  loginUser: string;
  password: string;
}

/** What is wrong with the form, per device and per field. */
export interface Problems {
  rows: Record<string, { adminUser?: string; loginUser?: string; password?: string }>;
  privateKey?: string;
  passphrase?: string;
  form?: string;
}

/** The API takes secrets of up to 64 KiB. */
const MAX_KEY_BYTES = 65_536;

/** The per-device fields, and the shared password when one serves every device. */
export function checkRows(rows: readonly Row[], mode: Mode, samePassword: string | null): Problems {
  const problems: Problems = { rows: {} };
  for (const row of rows) {
    const p: Problems["rows"][string] = {};
    if (!row.adminUser.trim()) p.adminUser = "Enter the admin user.";
    else if (!USERNAME_PATTERN.test(row.adminUser.trim())) {
      p.adminUser = "Use a user name such as admin or ec2-user: lower-case letters, digits, _ . -";
    }
    if (mode === "space-key") {
      if (row.loginUser.trim() && !USERNAME_PATTERN.test(row.loginUser.trim())) {
        p.loginUser = "Use a user name such as root or admin.";
      }
      if (samePassword === null && !row.password) p.password = "Enter the password.";
    }
    if (Object.keys(p).length > 0) problems.rows[row.device.id] = p;
  }
  if (mode === "space-key" && samePassword !== null && !samePassword) {
    problems.form = "Enter the password for the devices.";
  }
  return problems;
}

export function hasProblems(p: Problems): boolean {
  return Boolean(p.form || p.privateKey || p.passphrase || Object.keys(p.rows).length > 0);
}

/** The chosen private key file's text, or what is wrong with the choice. */
export async function readPrivateKeyFile(
  file: File | undefined,
): Promise<{ privateKey: string } | { problem: string }> {
  if (!file) return { problem: "Choose the private key file." };
  if (file.size > MAX_KEY_BYTES) {
    return {
      problem: `${file.name} is ${file.size} bytes; a private key file is at most 64 KiB. Choose the key itself, not an archive.`,
    };
  }
  const privateKey = await file.text();
  if (!privateKey.includes("PRIVATE KEY")) {
    return {
      problem: `${file.name} holds no private key (no "PRIVATE KEY" block). Choose the private half, not the .pub file.`,
    };
  }
  return { privateKey };
}

/**
 * One request for the whole form, one job: in Space key mode each device carries its own
 * password unless `shared` serves them all.
 */
export function buildRequest(
  rows: readonly Row[],
  form:
    | { mode: "space-key"; shared: string | null }
    | { mode: "custom-key"; privateKey: string; passphrase: string; adopt: boolean },
): ResolveRequest {
  if (form.mode === "space-key") {
    const { shared } = form;
    return {
      mode: form.mode,
      ...(shared !== null ? { password: shared } : {}),
      devices: rows.map((r) => ({
        id: r.device.id,
        adminUser: r.adminUser.trim(),
        ...(r.loginUser.trim() ? { loginUser: r.loginUser.trim() } : {}),
        ...(shared === null ? { password: r.password } : {}),
      })),
    };
  }
  return {
    mode: form.mode,
    privateKey: form.privateKey,
    ...(form.passphrase ? { passphrase: form.passphrase } : {}),
    ...(form.adopt ? { adopt: true } : {}),
    devices: rows.map((r) => ({ id: r.device.id, adminUser: r.adminUser.trim() })),
  };
}

/** The API's refusal as form problems: `devices[2].adminUser` names the device and the field. */
export function problemsFromApi(error: ApiError, request: ResolveRequest): Problems | undefined {
  const match = /^devices\[(\d+)\]\.(\w+)$/.exec(error.field ?? "");
  const device = match ? request.devices[Number(match[1])] : undefined;
  if (match && device) return { rows: { [device.id]: { [match[2] as string]: error.message } } };
  if (error.field === "privateKey" || error.field === "passphrase") {
    return { rows: {}, [error.field]: error.message };
  }
  return undefined;
}
