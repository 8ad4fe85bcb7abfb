import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import type { TestProject } from "vitest/node";
import {
  NOPASSWD_OPS_USER,
  OPS_USER,
  POOL_SIZE,
  POOL_SLOTS,
  poolUser,
  requireDeviceTestHost,
  run,
  TEST_ROOT,
  TTY_OPS_USER,
  userExists,
} from "../harness/system.ts";

declare module "vitest" {
  export interface ProvidedContext {
    devicePassword: string;
  }
}

/**
 * Prepares the machine for the device tests: a pool of users (one per simulated device, a slot of
 * them per test worker), each with a password known only to this run, and an operator user that
 * may sudo with its password.
 */
export default async function setup(project: TestProject) {
  requireDeviceTestHost();
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  mkdirSync(`${TEST_ROOT}/home`, { recursive: true, mode: 0o755 });
  const users = [OPS_USER, NOPASSWD_OPS_USER, TTY_OPS_USER];
  for (let slot = 1; slot <= POOL_SLOTS; slot++) {
    for (let i = 0; i < POOL_SIZE; i++) users.push(poolUser(slot, i));
  }
  for (const user of users) {
    if (!userExists(user)) {
      await run("useradd", ["-M", "-d", `${TEST_ROOT}/home/${user}`, "-s", "/bin/sh", user]);
    }
  }
  const password = testPassword();
  const chpasswd = run("chpasswd");
  chpasswd.child.stdin?.end(users.map((u) => `${u}:${password}\n`).join(""));
  await chpasswd;
  await writeFile(`/etc/sudoers.d/${OPS_USER}`, `${OPS_USER} ALL=(ALL) ALL\n`, { mode: 0o440 });
  await writeFile(
    `/etc/sudoers.d/${NOPASSWD_OPS_USER}`,
    `${NOPASSWD_OPS_USER} ALL=(ALL) NOPASSWD: ALL\n`,
    { mode: 0o440 },
  );
  await writeFile(
    `/etc/sudoers.d/${TTY_OPS_USER}`,
    `Defaults:${TTY_OPS_USER} requiretty\n${TTY_OPS_USER} ALL=(ALL) ALL\n`,
    { mode: 0o440 },
  );
  project.provide("devicePassword", password);
}

/**
 * The pool's password: made once per machine (root-only file), so that two test runs at the same
 * time never change the password under each other's feet.
 */
function testPassword(): string {
  const file = `${TEST_ROOT}/pool-password`;
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const password = randomBytes(12).toString("base64url");
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}
