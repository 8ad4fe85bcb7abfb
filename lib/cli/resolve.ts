/**
 * `keyheal resolve DEVICE_ID…`: the operator's "Resolve Key Conflict" action, with the Space key
 * (admin password) or a custom key, one run per device.
 *
 * @module
 */
import { flag, stringOption } from "./args.ts";
import { type CommandSpec, checkDeviceId, USERNAME_PATTERN } from "./command.ts";
import { UsageError } from "./errors.ts";
import { readPrivateKeyFile } from "./files.ts";
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
      "resolve DEVICE_ID… (--space-key --admin USER --password-stdin | --custom-key FILE [--passphrase-stdin] --admin USER) [--adopt] [--wait]",
    summary: "Resolve key conflicts by hand: log in with a password or your own key, then heal.",
    details: [
      "Space key: keyheal logs in as the admin user with the password (only to a device whose host key",
      "is pinned), creates the user when it is missing, and installs the platform key:",
      "  keyheal resolve web-1 web-2 --space-key --admin ops --password-stdin < password.txt",
      "Custom key: keyheal logs in with your private key, then installs the platform key, or with",
      "--adopt keeps your key as the device's credential (status CUSTOM_KEY_BASED):",
      "  keyheal resolve web-3 --custom-key ~/.ssh/ops --admin ops",
      "USER@DEVICE_ID gives one device its own admin user. One run starts per device; the runs",
      "form one job, whose id is printed (keyheal jobs show JOB_ID). --wait shows resolved/failed.",
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
    positionals: { name: "DEVICE_ID", min: 1, max: 1000 },
    api: true,
    json: true,
    async run(context) {
      const spaceKey = flag(context.args, "space-key");
      const customKey = stringOption(context.args, "custom-key");
      if (spaceKey === (customKey !== undefined)) {
        throw new UsageError("give one of --space-key or --custom-key FILE", COMMAND);
      }
      const devices = resolveTargets(context.args.positionals, stringOption(context.args, "admin"));
      const ids = new Set<string>();
      for (const device of devices) {
        if (ids.has(device.id)) throw new UsageError(`${device.id} is given twice`, COMMAND);
        ids.add(device.id);
      }
      let body: Parameters<Awaited<ReturnType<typeof context.client>>["resolve"]>[0];
      if (spaceKey) {
        for (const wrong of ["passphrase-stdin", "adopt"]) {
          if (flag(context.args, wrong)) {
            throw new UsageError(`--${wrong} goes with --custom-key, not --space-key`, COMMAND);
          }
        }
        if (!flag(context.args, "password-stdin")) {
          throw new UsageError(
            "--space-key needs the admin password on stdin: add --password-stdin",
            COMMAND,
          );
        }
        const password = await readSecretFromStdin(context.io, "password");
        body = { mode: "space-key", devices, password };
      } else {
        if (flag(context.args, "password-stdin")) {
          throw new UsageError(
            "--password-stdin goes with --space-key; a custom key's passphrase comes with --passphrase-stdin",
            COMMAND,
          );
        }
        const privateKey = await readPrivateKeyFile(
          customKey as string,
          context.io.cwd,
          "--custom-key",
        );
        const passphrase = flag(context.args, "passphrase-stdin")
          ? await readSecretFromStdin(context.io, "passphrase")
          : undefined;
        body = {
          mode: "custom-key",
          devices,
          privateKey,
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
