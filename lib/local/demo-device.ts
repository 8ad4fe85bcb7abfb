import { existsSync } from "node:fs";
import { SandboxDevice, SSHD_PATH } from "./sandbox-sshd.ts";
import { SimulatedDevice } from "./simulated-device.ts";

/** A device of the `npm start` demo fleet: a sandboxed SSH server on 127.0.0.1. */
export interface DemoDevice {
  readonly dir: string;
  readonly user: string;
  readonly host: string;
  readonly port: number;
  readonly hostKeyFingerprint: string;
  /** Absolute path of the device's authorized_keys, in its sandbox directory. */
  readonly authorizedKeysFile: string;
  start(): Promise<void>;
  /** Stops the server: connections to its port are refused until {@link start}. */
  stop(): Promise<void>;
  destroy(): Promise<void>;
  readAuthorizedKeys(): Promise<string>;
  writeAuthorizedKeys(content: string): Promise<void>;
}

/** `sshd`: OpenSSH's sshd as the current user; `simulated`: an in-process ssh2 server. */
export type DemoDeviceKind = "sshd" | "simulated";

export const DEMO_DEVICE_LABELS: Readonly<Record<DemoDeviceKind, string>> = {
  sshd: "real sshd",
  simulated: "in-process simulator",
};

/** Real sshd when it is installed, the simulator otherwise; `forced` overrides the choice. */
export function demoDeviceKind(forced?: DemoDeviceKind): DemoDeviceKind {
  return forced ?? (existsSync(SSHD_PATH) ? "sshd" : "simulated");
}

/** Starts one demo device holding `authorizedKeys`. */
export function createDemoDevice(
  authorizedKeys: string,
  kind: DemoDeviceKind = demoDeviceKind(),
): Promise<DemoDevice> {
  return kind === "sshd"
    ? SandboxDevice.create(authorizedKeys)
    : SimulatedDevice.create(authorizedKeys);
}
