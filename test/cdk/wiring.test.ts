/**
 * The pieces the stack is assembled from, without a synthesis: settings, ASL substitution,
 * timeouts, function environments and handler files.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { placeholdersOf, substitutionsFor, UnboundPlaceholderError } from "../../cdk/asl.ts";
import {
  bundleSettings,
  DEPLOYED_SDK,
  esbuildOptions,
  nodejsBundling,
} from "../../cdk/bundling.ts";
import { configFromContext, InvalidConfigError, parseConfig } from "../../cdk/config.ts";
import {
  FunctionEnvironmentError,
  lambdaEnvironment,
} from "../../cdk/constructs/keyheal-function.ts";
import { taskEntry } from "../../cdk/constructs/workflow-functions.ts";
import { PROJECT_ROOT } from "../../cdk/paths.ts";
import {
  functionTimeoutSeconds,
  MAX_FUNCTION_TIMEOUT_SECONDS,
  TimeoutBudgetError,
} from "../../cdk/timeouts.ts";
import { intakeEnvironmentSchema, taskEnvironmentSchema } from "../../lib/lambda/env.ts";
import { TASKS } from "../../lib/workflows/tasks/index.ts";

function configError(input: unknown): InvalidConfigError {
  try {
    parseConfig(input);
  } catch (error) {
    if (error instanceof InvalidConfigError) return error;
    throw error;
  }
  throw new Error("the settings were accepted");
}

describe("settings", () => {
  it("defaults to a retained deployment outside any VPC", () => {
    const config = parseConfig({});
    expect(config.devMode).toBe(false);
    expect(config.vpcId).toBeUndefined();
    expect(config.secretPrefix).toBe("keyheal/");
    expect(config.logRetentionDays).toBe(90);
    expect(config.deviceCidrs).toEqual(["0.0.0.0/0"]);
  });

  it("names the context key of every wrong setting and what it must be", () => {
    const error = configError({ vpcId: "vpc-1", logRetentionDays: 17, deviceCidrs: "10.0.0.0/33" });
    expect(error.issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^keyheal:vpcId must be a VPC id/),
        expect.stringMatching(/^keyheal:logRetentionDays must be one of 1, 3, 5/),
        expect.stringMatching(/^keyheal:deviceCidrs\.0 must be an IPv4 CIDR/),
        expect.stringMatching(/^keyheal:subnetIds is needed with vpcId/),
      ]),
    );
    expect(error.message).toContain("-c keyheal:<name>=<value>");
  });

  it("refuses settings it does not know, so no secret can ride along in cdk.json", () => {
    const error = configError({ privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----", password: "x" });
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatch(/unknown setting\(s\) privateKey, password; known: devMode/);
    // The message names the settings, never their values.
    expect(error.message).not.toContain("BEGIN");
  });

  it("needs the tag key with a tag value, and the VPC with a security group", () => {
    expect(configError({ managedTagValue: "yes" }).issues).toEqual([
      "keyheal:managedTagKey is needed with managedTagValue",
    ]);
    expect(configError({ securityGroupId: "sg-0123456789abcdef0" }).issues).toEqual([
      "keyheal:vpcId is needed with securityGroupId",
    ]);
  });

  it("needs a custom domain's certificate with it", () => {
    expect(configError({ domainName: "keyheal.example.com" }).issues).toEqual([
      "keyheal:certificateArn is needed with the other: give domainName and certificateArn together",
    ]);
  });

  it("takes -c overrides as strings over the cdk.json object", () => {
    const context: Record<string, unknown> = {
      keyheal: { devMode: false, logRetentionDays: 30 },
      "keyheal:devMode": "true",
      "keyheal:vpcId": "vpc-0123456789abcdef0",
      "keyheal:subnetIds": "subnet-0123456789abcdef0, subnet-0123456789abcdef1",
      "keyheal:sshCommandTimeoutMs": "30000",
    };
    const config = configFromContext((key) => context[key]);
    expect(config).toMatchObject({
      devMode: true,
      logRetentionDays: 30,
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
      sshCommandTimeoutMs: 30_000,
    });
  });

  it("refuses a keyheal context that is not an object", () => {
    expect(() => configFromContext(() => "devMode")).toThrow(InvalidConfigError);
  });
});

/** `${name}`, the ASL placeholder syntax (not a template literal). */
const placeholder = (name: string) => ["$", "{", name, "}"].join("");

describe("ASL substitutions", () => {
  const arns = { Detect: "arn:detect", Replace: "arn:replace" };

  it("maps each placeholder <Task>FunctionArn to that task's function", () => {
    const asl = JSON.stringify({
      States: {
        A: { Resource: placeholder("DetectFunctionArn") },
        B: { Resource: placeholder("ReplaceFunctionArn") },
        C: { Resource: placeholder("DetectFunctionArn") },
      },
    });
    expect(placeholdersOf(asl)).toEqual(["DetectFunctionArn", "ReplaceFunctionArn"]);
    expect(substitutionsFor("x.asl.json", asl, arns)).toEqual({
      DetectFunctionArn: "arn:detect",
      ReplaceFunctionArn: "arn:replace",
    });
  });

  it("fails for a task no function stands behind, naming the file and the known tasks", () => {
    const asl = JSON.stringify({ Resource: placeholder("HealFunctionArn") });
    expect(() => substitutionsFor("lib/workflows/x.asl.json", asl, arns)).toThrow(
      UnboundPlaceholderError,
    );
    expect(() => substitutionsFor("lib/workflows/x.asl.json", asl, arns)).toThrow(
      /x\.asl\.json uses \$\{HealFunctionArn\}.*one of Detect, Replace/,
    );
  });

  it("fails for a placeholder of any other shape", () => {
    const asl = JSON.stringify({ Resource: placeholder("TableName") });
    expect(() => substitutionsFor("x", asl, arns)).toThrow(UnboundPlaceholderError);
  });
});

describe("function timeouts", () => {
  const ssh = { connectMs: 5_000, handshakeMs: 15_000, commandMs: 20_000 };

  it("gives an SSH task room for three connections and fourteen commands, plus overhead", () => {
    expect(functionTimeoutSeconds("ssh", ssh)).toBe(3 * 20 + 14 * 20 + 30);
    expect(functionTimeoutSeconds("ssh", { ...ssh, commandMs: 30_000 })).toBe(
      3 * 20 + 14 * 30 + 30,
    );
    expect(functionTimeoutSeconds("probe", ssh)).toBe(35);
    expect(functionTimeoutSeconds("store", ssh)).toBe(60);
  });

  it("refuses SSH timeouts a single invocation could not honour", () => {
    expect(() => functionTimeoutSeconds("ssh", { ...ssh, commandMs: 70_000 })).toThrow(
      TimeoutBudgetError,
    );
    expect(() => functionTimeoutSeconds("ssh", { ...ssh, commandMs: 70_000 })).toThrow(
      new RegExp(`more than Lambda's ${MAX_FUNCTION_TIMEOUT_SECONDS} s`),
    );
  });
});

describe("function environments", () => {
  const tables = {
    DEVICES_TABLE: "d",
    FAILURES_TABLE: "f",
    KEYS_TABLE: "k",
    RUNS_TABLE: "r",
  };

  it("turns a schema-typed environment into Lambda's strings, leaving out absent optionals", () => {
    expect(
      lambdaEnvironment("functions/x.ts", taskEnvironmentSchema, {
        ...tables,
        SSH_CONNECT_TIMEOUT_MS: 5000,
        SSH_SOURCE_CIDR: undefined,
        UNDECLARED: "dropped",
      }),
    ).toEqual({ ...tables, SSH_CONNECT_TIMEOUT_MS: "5000" });
  });

  it("fails synth when a variable the schema requires is missing", () => {
    expect(() =>
      lambdaEnvironment("functions/intake.ts", intakeEnvironmentSchema, { DEVICES_TABLE: "d" }),
    ).toThrow(FunctionEnvironmentError);
    expect(() =>
      lambdaEnvironment("functions/intake.ts", intakeEnvironmentSchema, { DEVICES_TABLE: "d" }),
    ).toThrow(/RECONNECT_STATE_MACHINE_ARN is missing/);
  });
});

describe("handlers", () => {
  it("has a handler module under functions/workflow/ for every task", () => {
    expect(taskEntry("AcquireLease")).toBe("functions/workflow/acquire-lease.ts");
    for (const task of Object.keys(TASKS)) {
      expect(existsSync(path.join(PROJECT_ROOT, taskEntry(task))), task).toBe(true);
    }
  });
});

describe("bundling", () => {
  it("gives the construct and the benchmark the same esbuild settings", () => {
    const settings = bundleSettings();
    const cdk = nodejsBundling(settings);
    const bench = esbuildOptions(settings, "functions/intake.ts", "out.cjs");
    expect(cdk.forceDockerBundling).toBe(false);
    expect(cdk.externalModules).toEqual(bench.external);
    expect(cdk.mainFields).toEqual(bench.mainFields);
    expect(cdk.minify).toBe(bench.minify);
    expect(cdk.target).toBe(bench.target);
    expect(String(cdk.format)).toBe(bench.format);
  });

  it("leaves the SDK to the Lambda runtime (the 500 kB goal), and bundles it only when asked", () => {
    expect(bundleSettings("runtime").external).toContain("@aws-sdk/*");
    expect(bundleSettings("bundled").external).not.toContain("@aws-sdk/*");
    expect(nodejsBundling(bundleSettings("bundled")).bundleAwsSDK).toBe(true);
    expect(nodejsBundling(bundleSettings("runtime")).bundleAwsSDK).toBe(false);
    expect(DEPLOYED_SDK).toBe("runtime");
    expect(bundleSettings().external).toEqual(["cpu-features", "@aws-sdk/*", "@smithy/*"]);
  });
});
