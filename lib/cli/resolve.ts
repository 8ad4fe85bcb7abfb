/**
 * `keyheal resolve DEVICE_ID…`: the operator's "Resolve Key Conflict" action, with the Space key
 * (admin password) or a custom key, one run per device.
 *
 * @module
 */

import type { ResolveRequest, ResolveTarget } from "./api-client.ts";
import { flag, stringOption } from "./args.ts";
import { type CommandSpec, checkDeviceId, USERNAME_PATTERN } from "./command.ts";
import { UsageError } from "./errors.ts";
import { readPrivateKeyFile } from "./files.ts";
import { readDevicesFile } from "./resolve-file.ts";
import { finishStarted, WAIT } from "./runs.ts";
import { readSecretFromStdin } from "./secrets.ts";

const COMMAND = "resolve";

/** `DEVICE_ID` with the `--admin` user, or `USER@DEVICE_ID` with its own. */
export function resolveTargets(
  positionals: readonly string[],
  admin: string | undefined,
): { id: string; adminUser: string }[] {
  if (admin !== undefined && !USERNAME_PATTERN.test(admin)) {
    throw new UsageError(`--admin ${admin} is not a user name (a-z, 0-9, _ and -)`, COMMAND);
  }
  return positionals.map((target) => {
    const at = target.lastIndexOf("@");
    const id = at === -1 ? target : target.slice(at + 1);
    const adminUser = at === -1 ? admin : target.slice(0, at);
    checkDeviceId(id, COMMAND);
    if (adminUser === undefined) {
      throw new UsageError(`--admin USER is required (or write USER@${id})`, COMMAND);
    }
    if (!USERNAME_PATTERN.test(adminUser)) {
      throw new UsageError(`${target}: ${adminUser} is not a user name`, COMMAND);
    }
    return { id, adminUser };
  });
}

export const resolveCommands: CommandSpec[] = [
  {
    words: ["resolve"],
    usage:
      "resolve (DEVICE_ID… | --devices-file F) (--space-key --admin USER --password-stdin | --custom-key FILE [--passphrase-stdin] --admin USER) [--adopt] [--wait]",
    summary: "Resolve key conflicts by hand: log in with a password or your own key, then heal.",
    details: [
      "Space key: keyheal logs in as the admin user with the password (only to a device whose host key",
      "is pinned), creates the user when it is missing, and installs the platform key:",
      "  keyheal resolve web-1 web-2 --space-key --admin ops --password-stdin < password.txt",
      "Custom key: keyheal logs in with your private key, then installs the platform key, or with",
      "--adopt keeps your key as the device's credential (status CUSTOM_KEY_BASED):",
      "  keyheal resolve web-3 --custom-key ~/.ssh/ops --admin ops",
      "USER@DEVICE_ID gives one device its own admin user. --devices-file F gives each device its",
      "own admin user and its own password or key, each in a file (as the console's form does):",
      "  devices:",
      "    - { id: web-1, adminUser: ops, passwordFile: secrets/web-1.pass }",
      "    - { id: web-2, adminUser: root, loginUser: ops, passwordFile: secrets/web-2.pass }",
      "One run starts per device; the runs form one job, whose id is printed (keyheal jobs show JOB_ID). --wait shows resolved/failed.",
      "The password and key go to the runtime's short-lived secret store, never into runs or logs.",
    ].join("\n"),
    options: {
      "space-key": {
        type: "boolean",
        description: "Log in with the admin user's password and install the platform key",
      },
      "custom-key": {
        type: "string",
        value: "FILE",
        description: "Log in with this private key file",
      },
      admin: { type: "string", value: "USER", description: "The admin user on the devices" },
      "devices-file": {
        type: "string",
        value: "FILE",
        description:
          "YAML list of devices, each with its adminUser and its own passwordFile or privateKeyFile",
      },
      "password-stdin": {
        type: "boolean",
        description: "Read the admin password from stdin (a prompt on a terminal)",
      },
      "passphrase-stdin": {
        type: "boolean",
        description: "Read the custom key's passphrase from stdin (a prompt on a terminal)",
      },
      adopt: {
        type: "boolean",
        description: "With --custom-key: keep the custom key as the device's credential",
      },
      ...WAIT,
    },
    positionals: { name: "DEVICE_ID", min: 0, max: 1000 },
    api: true,
    json: true,
    async run(context) {
      const spaceKey = flag(context.args, "space-key");
      const customKey = stringOption(context.args, "custom-key");
      const devicesFile = stringOption(context.args, "devices-file");
      if (spaceKey && customKey !== undefined) {
        throw new UsageError("give one of --space-key or --custom-key FILE", COMMAND);
      }
      if (devicesFile !== undefined && context.args.positionals.length > 0) {
        throw new UsageError("give DEVICE_IDs or --devices-file FILE, not both", COMMAND);
      }
      if (devicesFile === undefined && context.args.positionals.length === 0) {
        throw new UsageError("name at least one DEVICE_ID, or a --devices-file FILE", COMMAND);
      }
      if (devicesFile !== undefined && stringOption(context.args, "admin") !== undefined) {
        throw new UsageError(
          "--admin goes with DEVICE_IDs; the devices file gives each device its adminUser",
          COMMAND,
        );
      }
      const file =
        devicesFile === undefined ? undefined : await readDevicesFile(devicesFile, context.io.cwd);
      const flagMode = spaceKey ? "space-key" : customKey !== undefined ? "custom-key" : undefined;
      if (file?.mode !== undefined && flagMode !== undefined && file.mode !== flagMode) {
        throw new UsageError(
          `the devices file gives ${file.mode === "space-key" ? "passwords" : "private keys"}, which does not go with --${flagMode}`,
          COMMAND,
        );
      }
      const mode = file?.mode ?? flagMode;
      if (mode === undefined) {
        throw new UsageError("give one of --space-key or --custom-key FILE", COMMAND);
      }
      const devices: ResolveTarget[] =
        file?.devices ??
        resolveTargets(context.args.positionals, stringOption(context.args, "admin"));
      const ids = new Set<string>();
      for (const device of devices) {
        if (ids.has(device.id)) throw new UsageError(`${device.id} is given twice`, COMMAND);
        ids.add(device.id);
      }
      let body: ResolveRequest;
      if (mode === "space-key") {
        for (const wrong of ["passphrase-stdin", "adopt"]) {
          if (flag(context.args, wrong)) {
            throw new UsageError(`--${wrong} goes with --custom-key, not --space-key`, COMMAND);
          }
        }
        const without = devices.filter((device) => device.password === undefined);
        if (without.length > 0 && !flag(context.args, "password-stdin")) {
          throw new UsageError(
            file === undefined
              ? "--space-key needs the admin password on stdin: add --password-stdin"
              : `${without.map((d) => d.id).join(", ")} ha${without.length === 1 ? "s" : "ve"} no passwordFile: add --password-stdin for ${without.length === 1 ? "it" : "them"}`,
            COMMAND,
          );
        }
        const password =
          without.length > 0 ? await readSecretFromStdin(context.io, "password") : undefined;
        body = {
          mode: "space-key",
          devices: devices.map(({ privateKey: _k, passphrase: _p, ...device }) => device),
          ...(password === undefined ? {} : { password }),
        };
      } else {
        if (flag(context.args, "password-stdin")) {
          throw new UsageError(
            "--password-stdin goes with --space-key; a custom key's passphrase comes with --passphrase-stdin",
            COMMAND,
          );
        }
        const without = devices.filter((device) => device.privateKey === undefined);
        if (without.length > 0 && customKey === undefined) {
          throw new UsageError(
            `${without.map((d) => d.id).join(", ")} ha${without.length === 1 ? "s" : "ve"} no privateKeyFile: add --custom-key FILE for ${without.length === 1 ? "it" : "them"}`,
            COMMAND,
          );
        }
        const privateKey =
          customKey === undefined
            ? undefined
            : await readPrivateKeyFile(customKey, context.io.cwd, "--custom-key");
        const passphrase = flag(context.args, "passphrase-stdin")
          ? await readSecretFromStdin(context.io, "passphrase")
          : undefined;
        body = {
          mode: "custom-key",
          devices: devices.map(({ password: _p, loginUser: _l, ...device }) => device),
          ...(privateKey === undefined ? {} : { privateKey }),
          ...(passphrase === undefined ? {} : { passphrase }),
          ...(flag(context.args, "adopt") ? { adopt: true } : {}),
        };
      }
      const client = await context.client();
      const started = await client.resolve(body);
      return finishStarted(
        context,
        started.runs,
        started,
        `Resolve started for ${started.runs.length} device${started.runs.length === 1 ? "" : "s"}`,
        started.jobId === undefined ? undefined : { id: started.jobId, verb: "resolved" },
      );
    },
  },
];
