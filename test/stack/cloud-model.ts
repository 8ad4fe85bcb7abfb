/**
 * The AWS services the harness does not run an engine for, answered in the shapes the SDK's
 * output types give (EC2 DescribeInstances / DescribeSecurityGroups, Secrets Manager, S3
 * PutObject / GetObject) from one in-memory account, so every function sees the same secrets,
 * instances and manifests. The functions' clients reach it through aws-sdk-client-mock in their
 * own process (test/stack/lambda-child.ts); errors carry the service's own error codes.
 */
import { randomBytes } from "node:crypto";
import type {
  DescribeInstancesCommandInput,
  DescribeInstancesCommandOutput,
  DescribeSecurityGroupsCommandInput,
  DescribeSecurityGroupsCommandOutput,
  Instance,
  IpPermission,
} from "@aws-sdk/client-ec2";
import type { Tag } from "@aws-sdk/client-secrets-manager";
import { ACCOUNT, REGION } from "./template.ts";

/** An AWS error by its code, as the service names it. */
export class AwsError extends Error {
  constructor(code: string, message: string) {
    super(message);
    this.name = code;
  }
}

export interface LocalInstance {
  instanceId: string;
  state: "pending" | "running" | "stopping" | "stopped";
  privateIp: string;
  tags: Record<string, string>;
  securityGroupIds: string[];
}

interface Secret {
  arn: string;
  name: string;
  value: string;
  tags: Tag[];
  description?: string;
  kmsKeyId?: string;
  created: Date;
  deleted?: Date;
}

export class CloudModel {
  readonly instances = new Map<string, LocalInstance>();
  readonly securityGroups = new Map<string, IpPermission[]>();
  readonly secrets = new Map<string, Secret>();
  readonly objects = new Map<string, string>();
  readonly buckets: Set<string>;
  /** Every call served: service, command (tests check who asked for what). */
  readonly calls: Array<{ service: string; command: string; input: unknown }> = [];

  constructor(buckets: Iterable<string>) {
    this.buckets = new Set(buckets);
  }

  async handle(service: string, command: string, input: unknown): Promise<unknown> {
    this.calls.push({ service, command, input });
    const method = `${service}${command}` as keyof this;
    const fn = this[method];
    if (typeof fn !== "function") {
      throw new AwsError("UnknownOperationException", `${service} ${command} is not modelled`);
    }
    return (fn as (input: unknown) => unknown).call(this, input);
  }

  // EC2 -----------------------------------------------------------------------------------------

  ec2DescribeInstances(input: DescribeInstancesCommandInput): DescribeInstancesCommandOutput {
    let instances = [...this.instances.values()];
    if (input.InstanceIds?.length) {
      for (const id of input.InstanceIds) {
        if (!this.instances.has(id)) {
          throw new AwsError(
            "InvalidInstanceID.NotFound",
            `The instance ID '${id}' does not exist`,
          );
        }
      }
      instances = instances.filter((i) => input.InstanceIds?.includes(i.instanceId));
    }
    for (const filter of input.Filters ?? []) {
      const values = filter.Values ?? [];
      instances = instances.filter((i) => {
        if (filter.Name === "instance-state-name") return values.includes(i.state);
        if (filter.Name === "tag-key") return values.some((key) => key in i.tags);
        if (filter.Name?.startsWith("tag:")) {
          const value = i.tags[filter.Name.slice(4)];
          return value !== undefined && values.includes(value);
        }
        throw new AwsError("InvalidParameterValue", `filter ${filter.Name} is not modelled`);
      });
    }
    return {
      $metadata: {},
      Reservations: instances.map((i) => ({
        ReservationId: `r-${i.instanceId.slice(2)}`,
        OwnerId: ACCOUNT,
        Instances: [toInstance(i)],
      })),
    };
  }

  ec2DescribeSecurityGroups(
    input: DescribeSecurityGroupsCommandInput,
  ): DescribeSecurityGroupsCommandOutput {
    const ids = input.GroupIds ?? [...this.securityGroups.keys()];
    for (const id of ids) {
      if (!this.securityGroups.has(id)) {
        throw new AwsError("InvalidGroup.NotFound", `The security group '${id}' does not exist`);
      }
    }
    return {
      $metadata: {},
      SecurityGroups: ids.map((GroupId) => ({
        GroupId,
        GroupName: GroupId,
        Description: "stack harness",
        OwnerId: ACCOUNT,
        VpcId: "vpc-0stackharness00",
        IpPermissions: this.securityGroups.get(GroupId) ?? [],
        IpPermissionsEgress: [],
      })),
    };
  }

  // Secrets Manager -----------------------------------------------------------------------------

  #secret(id: string, allowDeleted = false): Secret {
    const secret = this.secrets.get(id) ?? [...this.secrets.values()].find((s) => s.arn === id);
    if (!secret) {
      throw new AwsError(
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret.",
      );
    }
    if (secret.deleted && !allowDeleted) {
      throw new AwsError(
        "InvalidRequestException",
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    return secret;
  }

  secretsmanagerCreateSecret(input: {
    Name: string;
    SecretString?: string;
    KmsKeyId?: string;
    Description?: string;
    Tags?: Tag[];
  }) {
    if (this.secrets.has(input.Name)) {
      throw new AwsError(
        "ResourceExistsException",
        `The operation failed because the secret ${input.Name} already exists.`,
      );
    }
    const secret: Secret = {
      arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${input.Name}-${randomBytes(3).toString("hex")}`,
      name: input.Name,
      value: input.SecretString ?? "",
      tags: input.Tags ?? [],
      description: input.Description,
      kmsKeyId: input.KmsKeyId,
      created: new Date(),
    };
    this.secrets.set(input.Name, secret);
    return { ARN: secret.arn, Name: secret.name, VersionId: randomBytes(16).toString("hex") };
  }

  secretsmanagerPutSecretValue(input: { SecretId: string; SecretString?: string }) {
    const secret = this.#secret(input.SecretId);
    secret.value = input.SecretString ?? "";
    return { ARN: secret.arn, Name: secret.name, VersionId: randomBytes(16).toString("hex") };
  }

  secretsmanagerGetSecretValue(input: { SecretId: string }) {
    const secret = this.#secret(input.SecretId);
    return {
      ARN: secret.arn,
      Name: secret.name,
      SecretString: secret.value,
      VersionId: "current",
      VersionStages: ["AWSCURRENT"],
      CreatedDate: secret.created,
    };
  }

  secretsmanagerDescribeSecret(input: { SecretId: string }) {
    const secret = this.#secret(input.SecretId, true);
    return {
      ARN: secret.arn,
      Name: secret.name,
      Description: secret.description,
      KmsKeyId: secret.kmsKeyId,
      Tags: secret.tags,
      CreatedDate: secret.created,
      ...(secret.deleted ? { DeletedDate: secret.deleted } : {}),
    };
  }

  secretsmanagerDeleteSecret(input: {
    SecretId: string;
    ForceDeleteWithoutRecovery?: boolean;
    RecoveryWindowInDays?: number;
  }) {
    const secret = this.#secret(input.SecretId, true);
    if (input.ForceDeleteWithoutRecovery) this.secrets.delete(secret.name);
    else secret.deleted = new Date();
    return { ARN: secret.arn, Name: secret.name, DeletionDate: new Date() };
  }

  secretsmanagerListSecrets(input: { Filters?: Array<{ Key?: string; Values?: string[] }> }) {
    let list = [...this.secrets.values()];
    for (const filter of input.Filters ?? []) {
      const values = filter.Values ?? [];
      if (filter.Key === "tag-key") {
        list = list.filter((s) => s.tags.some((t) => values.includes(t.Key ?? "")));
      } else if (filter.Key === "name") {
        list = list.filter((s) =>
          values.some((v) => s.name.toLowerCase().startsWith(v.toLowerCase())),
        );
      } else {
        throw new AwsError("InvalidParameterException", `filter ${filter.Key} is not modelled`);
      }
    }
    return {
      SecretList: list.map((s) => ({
        ARN: s.arn,
        Name: s.name,
        Tags: s.tags,
        CreatedDate: s.created,
        ...(s.deleted ? { DeletedDate: s.deleted } : {}),
      })),
    };
  }

  secretsmanagerTagResource(input: { SecretId: string; Tags?: Tag[] }) {
    const secret = this.#secret(input.SecretId, true);
    for (const tag of input.Tags ?? []) {
      secret.tags = [...secret.tags.filter((t) => t.Key !== tag.Key), tag];
    }
    return {};
  }

  secretsmanagerUntagResource(input: { SecretId: string; TagKeys?: string[] }) {
    const secret = this.#secret(input.SecretId, true);
    secret.tags = secret.tags.filter((t) => !input.TagKeys?.includes(t.Key ?? ""));
    return {};
  }

  // S3 ------------------------------------------------------------------------------------------

  #bucket(bucket: string): void {
    if (!this.buckets.has(bucket)) {
      throw new AwsError("NoSuchBucket", `The specified bucket ${bucket} does not exist`);
    }
  }

  s3PutObject(input: { Bucket: string; Key: string; Body?: string }) {
    this.#bucket(input.Bucket);
    if (typeof input.Body !== "string") {
      throw new AwsError("InvalidRequest", "the stack harness stores text bodies only");
    }
    this.objects.set(`${input.Bucket}/${input.Key}`, input.Body);
    return { ETag: `"${randomBytes(16).toString("hex")}"` };
  }

  s3GetObject(input: { Bucket: string; Key: string }) {
    this.#bucket(input.Bucket);
    const body = this.objects.get(`${input.Bucket}/${input.Key}`);
    if (body === undefined) throw new AwsError("NoSuchKey", "The specified key does not exist.");
    return { Body: body, ContentLength: Buffer.byteLength(body), ContentType: "application/json" };
  }
}

function toInstance(i: LocalInstance): Instance {
  const groups = i.securityGroupIds.map((GroupId) => ({ GroupId, GroupName: GroupId }));
  return {
    InstanceId: i.instanceId,
    InstanceType: "t4g.micro",
    ImageId: "ami-0stackharness000",
    State: { Code: i.state === "running" ? 16 : 80, Name: i.state },
    PrivateIpAddress: i.privateIp,
    VpcId: "vpc-0stackharness00",
    SubnetId: "subnet-0stackharness0",
    SecurityGroups: groups,
    Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
    NetworkInterfaces: [
      {
        NetworkInterfaceId: `eni-${i.instanceId.slice(2)}`,
        PrivateIpAddress: i.privateIp,
        Groups: groups,
        Attachment: { DeviceIndex: 0, Status: "attached" },
      },
    ],
  };
}
