import { describe, expect, it } from "vitest";
import { type OptionSpecs, parseArgs, refuseSecretsOnArgv } from "../../../lib/cli/args.ts";
import { checkDeviceId } from "../../../lib/cli/command.ts";
import { SecretOnArgvError, UsageError } from "../../../lib/cli/errors.ts";
import { resolveTargets } from "../../../lib/cli/resolve.ts";
import { DeviceIdSchema, UsernameSchema } from "../../../lib/contract/requests.ts";

const OPTIONS: OptionSpecs = {
  device: { type: "string", value: "D", description: "" },
  cause: { type: "string", value: "C", description: "" },
  all: { type: "boolean", description: "" },
  help: { type: "boolean", description: "" },
};

const parse = (argv: string[]) => parseArgs(argv, OPTIONS, "failures list");

describe("parseArgs", () => {
  it("reads --flag value, --flag=value, booleans and positionals in any order", () => {
    expect(parse(["x", "--device", "dev-1", "--cause=AUTH_REJECTED", "--all", "y"])).toEqual({
      values: { device: "dev-1", cause: "AUTH_REJECTED", all: true },
      positionals: ["x", "y"],
    });
  });

  it("takes everything after -- as positionals, and -h as --help", () => {
    expect(parse(["-h", "--", "--all", "-x"])).toEqual({
      values: { help: true },
      positionals: ["--all", "-x"],
    });
  });

  it("keeps a value that starts with one dash", () => {
    expect(parse(["--device", "-dev"]).values.device).toBe("-dev");
  });

  it.each([
    [["--devcie", "x"], "unknown option --devcie (did you mean --device?)"],
    [["--zzzzzzzz"], "unknown option --zzzzzzzz"],
    [["-d", "x"], "unknown option -d"],
    [["--device"], "--device needs a value (D)"],
    [["--device", "--all"], "--device needs a value (D)"],
    [["--device="], "--device needs a non-empty value"],
    [["--all=yes"], "--all takes no value"],
    [["--all", "--all"], "--all is given twice"],
  ])("refuses %j: %s", (argv, message) => {
    let caught: unknown;
    try {
      parse(argv);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as UsageError).message).toBe(message);
    expect((caught as UsageError).command).toBe("failures list");
    expect((caught as UsageError).exitCode).toBe(2);
  });

  it("does not treat inherited object keys as options", () => {
    expect(() => parse(["--constructor"])).toThrow(UsageError);
  });
});

describe("refuseSecretsOnArgv", () => {
  it.each([
    ["--password", "hunter2"],
    ["--password=hunter2"],
    ["--passphrase", "x"],
    ["--token", "t"],
    ["--api-token=t"],
  ])("refuses %s with what to do instead", (...argv) => {
    expect(() => refuseSecretsOnArgv(["resolve", "dev-1", ...argv])).toThrow(SecretOnArgvError);
    try {
      refuseSecretsOnArgv(argv);
    } catch (error) {
      expect((error as Error).message).not.toContain("hunter2");
      expect((error as SecretOnArgvError).exitCode).toBe(2);
    }
  });

  it("allows the stdin flags, and anything after --", () => {
    expect(() =>
      refuseSecretsOnArgv(["--password-stdin", "--passphrase-stdin", "--", "--password"]),
    ).not.toThrow();
  });
});

describe("resolve targets", () => {
  it("gives each device the --admin user, or the one written USER@DEVICE_ID", () => {
    expect(resolveTargets(["dev-1", "root@dev-2"], "ops")).toEqual([
      { id: "dev-1", adminUser: "ops" },
      { id: "dev-2", adminUser: "root" },
    ]);
  });

  it("needs a user for every device, and valid names", () => {
    expect(() => resolveTargets(["dev-1"], undefined)).toThrow("--admin USER is required");
    expect(() => resolveTargets(["dev 1"], "ops")).toThrow("is not a device id");
    expect(() => resolveTargets(["dev-1"], "Bad User")).toThrow("is not a user name");
  });
});

describe("command-line rules", () => {
  it("accept exactly the device ids and user names the API accepts", () => {
    const ids = ["web-1", "i-0abc:eu.1_x", "dev 1", "", "a/b", "x".repeat(128), "x".repeat(129)];
    for (const id of ids) {
      const cli = (() => {
        try {
          checkDeviceId(id, "resolve");
          return true;
        } catch {
          return false;
        }
      })();
      expect(cli, id).toBe(DeviceIdSchema.safeParse(id).success);
    }
    const users = [
      "ops",
      "_svc",
      "web-admin",
      "Ops",
      "1ops",
      "a b",
      "a".repeat(32),
      "a".repeat(33),
    ];
    for (const user of users) {
      const cli = (() => {
        try {
          resolveTargets(["dev-1"], user);
          return true;
        } catch {
          return false;
        }
      })();
      expect(cli, user).toBe(UsernameSchema.safeParse(user).success);
    }
  });
});
