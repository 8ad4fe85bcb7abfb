import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  InvalidArgumentError,
  InvalidSecretNameError,
  SecretExpiredError,
  SecretNotFoundError,
  StoreError,
} from "../../../lib/store/errors.ts";
import { EXPIRES_AT_TAG } from "../../../lib/store/secret-names.ts";
import { SecretsManagerSecretStore } from "../../../lib/store/secrets-manager-store.ts";

const sm = mockClient(SecretsManagerClient);
const NOW = Date.parse("2025-05-01T08:00:00.000Z");
const ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:keyheal/platform-key/1/X-AbCdEf";

function store(options: { now?: number; recoveryWindowInDays?: number } = {}) {
  return new SecretsManagerSecretStore({
    client: new SecretsManagerClient({ region: "eu-west-1" }),
    prefix: "keyheal/",
    kmsKeyId: "alias/keyheal",
    tags: { app: "keyheal" },
    clock: () => options.now ?? NOW,
    ...(options.recoveryWindowInDays ? { recoveryWindowInDays: options.recoveryWindowInDays } : {}),
  });
}

const notFound = () =>
  new ResourceNotFoundException({ message: "Secrets Manager can't find it", $metadata: {} });

beforeEach(() => {
  sm.reset();
});

describe("Secrets Manager secret store", () => {
  it("creates a lasting secret under the prefix, with the KMS key and tags, and returns its ARN", async () => {
    sm.on(CreateSecretCommand).resolves({ ARN });
    expect(await store().put("platform-key/1/X", "PRIVATE")).toBe(ARN);
    const [call] = sm.commandCalls(CreateSecretCommand);
    expect(call?.args[0].input).toMatchObject({
      Name: "keyheal/platform-key/1/X",
      SecretString: "PRIVATE",
      KmsKeyId: "alias/keyheal",
      Tags: [{ Key: "app", Value: "keyheal" }],
    });
  });

  it("tags a short-lived secret with its expiry", async () => {
    sm.on(CreateSecretCommand).resolves({ ARN });
    await store().put("resolve/run-1/password", "pw", { ttlSeconds: 900 });
    const input = sm.commandCalls(CreateSecretCommand)[0]?.args[0].input;
    expect(input?.Tags).toEqual([
      { Key: "app", Value: "keyheal" },
      { Key: EXPIRES_AT_TAG, Value: "2025-05-01T08:15:00.000Z" },
    ]);
    expect(input?.Description).toContain("2025-05-01T08:15:00.000Z");
  });

  it("stores a new version of an existing secret and brings its expiry tag up to date", async () => {
    sm.on(CreateSecretCommand).rejects(
      new ResourceExistsException({ message: "exists", $metadata: {} }),
    );
    sm.on(PutSecretValueCommand).resolves({ ARN });
    expect(await store().put("resolve/r/pw", "v2", { ttlSeconds: 60 })).toBe(ARN);
    expect(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: "keyheal/resolve/r/pw",
      SecretString: "v2",
    });
    expect(sm.commandCalls(TagResourceCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      Tags: [{ Key: EXPIRES_AT_TAG, Value: "2025-05-01T08:01:00.000Z" }],
    });

    sm.resetHistory();
    await store().put("resolve/r/pw", "v3");
    expect(sm.commandCalls(UntagResourceCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      TagKeys: [EXPIRES_AT_TAG],
    });
  });

  it("refuses invalid names and time to live before calling AWS", async () => {
    await expect(store().put("../x", "v")).rejects.toBeInstanceOf(InvalidSecretNameError);
    await expect(store().put("a b", "v")).rejects.toBeInstanceOf(InvalidSecretNameError);
    await expect(store().put("ok", "v", { ttlSeconds: -1 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(sm.calls()).toHaveLength(0);
  });

  it("reads a secret's string", async () => {
    sm.on(GetSecretValueCommand).resolves({ ARN, SecretString: "PRIVATE" });
    sm.on(DescribeSecretCommand).resolves({ ARN, Tags: [{ Key: "app", Value: "keyheal" }] });
    expect(await store().get(ARN)).toBe("PRIVATE");
    expect(sm.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({ SecretId: ARN });
  });

  it("a missing secret is SecretNotFoundError", async () => {
    sm.on(GetSecretValueCommand).rejects(notFound());
    sm.on(DescribeSecretCommand).rejects(notFound());
    await expect(store().get(ARN)).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it("refuses and force-deletes a short-lived secret read after its expiry", async () => {
    const tags = [{ Key: EXPIRES_AT_TAG, Value: "2025-05-01T08:15:00.000Z" }];
    sm.on(GetSecretValueCommand).resolves({ ARN, SecretString: "pw" });
    sm.on(DescribeSecretCommand).resolves({ ARN, Tags: tags });
    sm.on(DeleteSecretCommand).resolves({ ARN });

    expect(await store({ now: Date.parse("2025-05-01T08:14:59Z") }).get(ARN)).toBe("pw");
    expect(sm.commandCalls(DeleteSecretCommand)).toHaveLength(0);

    const expired = store({ now: Date.parse("2025-05-01T08:15:00Z") }).get(ARN);
    await expect(expired).rejects.toBeInstanceOf(SecretExpiredError);
    expect(sm.commandCalls(DeleteSecretCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      ForceDeleteWithoutRecovery: true,
    });
  });

  it("refuses a binary secret", async () => {
    sm.on(GetSecretValueCommand).resolves({ ARN, SecretBinary: new Uint8Array([1, 2]) });
    sm.on(DescribeSecretCommand).resolves({ ARN });
    await expect(store().get(ARN)).rejects.toBeInstanceOf(StoreError);
  });

  it("deletes a lasting secret with a recovery window, a short-lived one at once", async () => {
    sm.on(DeleteSecretCommand).resolves({ ARN });
    sm.on(DescribeSecretCommand).resolves({ ARN });
    await store({ recoveryWindowInDays: 30 }).delete(ARN);
    expect(sm.commandCalls(DeleteSecretCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      RecoveryWindowInDays: 30,
    });

    sm.resetHistory();
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      Tags: [{ Key: EXPIRES_AT_TAG, Value: "2025-05-01T08:15:00.000Z" }],
    });
    await store().delete(ARN);
    expect(sm.commandCalls(DeleteSecretCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      ForceDeleteWithoutRecovery: true,
    });
  });

  it("deleting is idempotent: a missing or already scheduled secret is left alone", async () => {
    sm.on(DescribeSecretCommand).rejects(notFound());
    await store().delete(ARN);
    sm.on(DescribeSecretCommand).resolves({ ARN, DeletedDate: new Date(NOW) });
    await store().delete(ARN);
    expect(sm.commandCalls(DeleteSecretCommand)).toHaveLength(0);
  });

  it("refuses a recovery window Secrets Manager does not accept", () => {
    expect(() => store({ recoveryWindowInDays: 3 })).toThrow(InvalidArgumentError);
  });
});

describe("issue 10.6: the Secrets Manager sweep of operator secrets", () => {
  const secret = (name: string, expiresAt?: string) => ({
    ARN: `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${name}-AbCdEf`,
    Name: name,
    Tags: [
      { Key: "app", Value: "keyheal" },
      ...(expiresAt ? [{ Key: EXPIRES_AT_TAG, Value: expiresAt }] : []),
    ],
  });

  it("issue 10.6: force-deletes every expired short-lived secret under the prefix, across pages, and nothing else", async () => {
    sm.on(ListSecretsCommand)
      .resolvesOnce({
        SecretList: [
          secret("keyheal/resolve/r1/credential", "2025-05-01T07:59:59.000Z"),
          secret("keyheal/resolve/r2/credential", "2025-05-01T08:10:00.000Z"),
        ],
        NextToken: "page-2",
      })
      .resolvesOnce({
        SecretList: [
          secret("keyheal/resolve/r3/passphrase", "2025-05-01T08:00:00.000Z"),
          // Only expiring secrets are asked for; whatever else comes back is left alone.
          secret("keyheal/platform-key/1/X"),
          secret("KEYHEAL/resolve/other/credential", "2025-01-01T00:00:00.000Z"),
          secret("keyheal/resolve/r4/credential", "not a date"),
        ],
      });
    sm.on(DeleteSecretCommand).resolves({});

    expect(await store().purgeExpired()).toBe(2);

    const lists = sm.commandCalls(ListSecretsCommand).map((call) => call.args[0].input);
    expect(lists).toHaveLength(2);
    expect(lists[0]?.Filters).toEqual([
      { Key: "tag-key", Values: [EXPIRES_AT_TAG] },
      { Key: "name", Values: ["keyheal/"] },
    ]);
    expect(lists[1]?.NextToken).toBe("page-2");
    expect(sm.commandCalls(DeleteSecretCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: secret("keyheal/resolve/r1/credential").ARN, ForceDeleteWithoutRecovery: true },
      { SecretId: secret("keyheal/resolve/r3/passphrase").ARN, ForceDeleteWithoutRecovery: true },
    ]);
  });

  it("issue 10.6: a secret deleted meanwhile is no error; any other failure is", async () => {
    sm.on(ListSecretsCommand).resolves({
      SecretList: [secret("keyheal/resolve/r1/credential", "2025-05-01T07:00:00.000Z")],
    });
    sm.on(DeleteSecretCommand).rejectsOnce(notFound());
    expect(await store().purgeExpired()).toBe(1);
    sm.on(DeleteSecretCommand).rejects(new Error("throttled"));
    await expect(store().purgeExpired()).rejects.toThrow("throttled");
  });

  it("issue 10.6: the scheduled sweep function deletes the expired secrets under keyheal's prefix", async () => {
    sm.on(ListSecretsCommand).resolves({
      SecretList: [
        secret("keyheal/resolve/r1/credential", "2020-01-01T00:00:00.000Z"),
        secret("keyheal/resolve/r2/credential", "2999-01-01T00:00:00.000Z"),
      ],
    });
    sm.on(DeleteSecretCommand).resolves({});
    const { handler } = await import("../../../functions/sweep-secrets.ts");
    const context = { functionName: "sweep", awsRequestId: "req-1" } as never;
    expect(await handler({}, context)).toEqual({ purged: 1 });
    expect(sm.commandCalls(ListSecretsCommand)[0]?.args[0].input.Filters).toContainEqual({
      Key: "name",
      Values: ["keyheal/"],
    });
    expect(sm.commandCalls(DeleteSecretCommand).map((call) => call.args[0].input.SecretId)).toEqual(
      [secret("keyheal/resolve/r1/credential").ARN],
    );
  });
});
