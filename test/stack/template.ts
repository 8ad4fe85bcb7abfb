/**
 * The synthesized template read as CloudFormation would deploy it onto this machine: every
 * intrinsic the stack uses (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select) resolved to the
 * local resources that stand in for the AWS ones. An intrinsic or attribute the harness does
 * not know fails with its name, so a template that grows a new kind of reference cannot be run
 * half resolved.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
export const PARTITION = "aws";
export const STACK_NAME = "Keyheal";

export type Resource = { Type: string; Properties?: Record<string, unknown> };
export type Template = { Resources: Record<string, Resource> };

/** An intrinsic or attribute the local deployment has no value for. */
export class UnresolvableError extends Error {
  constructor(what: string, where: string) {
    super(
      `The stack harness cannot resolve ${what} (in ${where}): teach test/stack/template.ts it.`,
    );
    this.name = "UnresolvableError";
  }
}

export class LocalTemplate {
  readonly template: Template;
  readonly assemblyDir: string;
  /** Prefix of every DynamoDB table name, so runs on a shared engine do not meet. */
  readonly tablePrefix: string;

  constructor(template: Template, assemblyDir: string, tablePrefix: string) {
    this.template = template;
    this.assemblyDir = assemblyDir;
    this.tablePrefix = tablePrefix;
  }

  ofType(type: string): Array<[string, Record<string, unknown>]> {
    return Object.entries(this.template.Resources)
      .filter(([, resource]) => resource.Type === type)
      .map(([id, resource]) => [id, resource.Properties ?? {}]);
  }

  resource(id: string): Resource {
    const resource = this.template.Resources[id];
    if (!resource) throw new UnresolvableError(`resource ${id}`, "the template");
    return resource;
  }

  /** What `Ref: id` gives for each resource type the stack uses. */
  ref(id: string, where: string): string {
    switch (id) {
      case "AWS::AccountId":
        return ACCOUNT;
      case "AWS::Region":
        return REGION;
      case "AWS::Partition":
        return PARTITION;
      case "AWS::StackName":
        return STACK_NAME;
      case "AWS::URLSuffix":
        return "amazonaws.com";
    }
    const resource = this.resource(id);
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case "AWS::DynamoDB::Table":
        return `${this.tablePrefix}${id}`;
      case "AWS::StepFunctions::StateMachine": {
        const name = props.StateMachineName ? String(this.resolve(props.StateMachineName, id)) : id;
        return `arn:${PARTITION}:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;
      }
      case "AWS::S3::Bucket":
        return id.toLowerCase();
      case "AWS::Events::EventBus":
        return String(this.resolve(props.Name, id));
      case "AWS::Lambda::Function":
        return id;
      case "AWS::KMS::Key":
        return `key-${id}`;
      case "AWS::SQS::Queue":
        return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${id}`;
      case "AWS::SNS::Topic":
        return `arn:${PARTITION}:sns:${REGION}:${ACCOUNT}:${id}`;
      case "AWS::ApiGateway::RestApi":
        return `api-${id}`.toLowerCase();
    }
    throw new UnresolvableError(`Ref to ${resource.Type} ${id}`, where);
  }

  /** What `Fn::GetAtt: [id, attribute]` gives. */
  getAtt(id: string, attribute: string, where: string): string {
    const resource = this.resource(id);
    const key = `${resource.Type}.${attribute}`;
    switch (key) {
      case "AWS::Lambda::Function.Arn":
        return functionArn(id);
      case "AWS::KMS::Key.Arn":
        return `arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:key/${this.ref(id, where)}`;
      case "AWS::DynamoDB::Table.Arn":
        return `arn:${PARTITION}:dynamodb:${REGION}:${ACCOUNT}:table/${this.ref(id, where)}`;
      case "AWS::SQS::Queue.Arn":
        return `arn:${PARTITION}:sqs:${REGION}:${ACCOUNT}:${id}`;
      case "AWS::S3::Bucket.Arn":
        return `arn:${PARTITION}:s3:::${this.ref(id, where)}`;
      case "AWS::StepFunctions::StateMachine.Arn":
        return this.ref(id, where);
      case "AWS::Events::EventBus.Arn":
        return `arn:${PARTITION}:events:${REGION}:${ACCOUNT}:event-bus/${this.ref(id, where)}`;
    }
    throw new UnresolvableError(`Fn::GetAtt ${id}.${attribute} (${resource.Type})`, where);
  }

  /** `value` with every intrinsic replaced by its local value. */
  resolve(value: unknown, where: string): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item, where));
    if (value === null || typeof value !== "object") return value;
    const entries = Object.entries(value);
    const [first] = entries;
    if (entries.length === 1 && first && (first[0] === "Ref" || first[0].startsWith("Fn::"))) {
      const [name, argument] = first;
      return this.#intrinsic(name, argument, where);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v, where)]));
  }

  #intrinsic(name: string, argument: unknown, where: string): unknown {
    switch (name) {
      case "Ref":
        return this.ref(String(argument), where);
      case "Fn::GetAtt": {
        const [id, attribute] = argument as [string, string];
        return this.getAtt(id, attribute, where);
      }
      case "Fn::Join": {
        const [separator, parts] = argument as [string, unknown[]];
        return (this.resolve(parts, where) as unknown[]).join(separator);
      }
      case "Fn::Select": {
        const [index, list] = argument as [number, unknown];
        return (this.resolve(list, where) as unknown[])[Number(index)];
      }
      case "Fn::Sub": {
        const [text, variables] =
          typeof argument === "string"
            ? [argument, {}]
            : (argument as [string, Record<string, unknown>]);
        const bound = this.resolve(variables, where) as Record<string, unknown>;
        return text.replace(/\$\{([^}]+)\}/g, (_m, ref: string) => {
          if (ref in bound) return String(bound[ref]);
          const [id, attribute] = ref.split(".");
          return attribute
            ? this.getAtt(id as string, attribute, where)
            : this.ref(id as string, where);
        });
      }
    }
    throw new UnresolvableError(name, where);
  }

  /** A file asset of the cloud assembly (a state machine definition), by its S3 key. */
  fileAsset(s3Key: string): string {
    return readFileSync(path.join(this.assemblyDir, `asset.${s3Key}`), "utf8");
  }

  /** The directory of a function's bundle, by its code's S3 key (`<hash>.zip`). */
  bundleDir(s3Key: string): string {
    return path.join(this.assemblyDir, `asset.${s3Key.replace(/\.zip$/, "")}`);
  }
}

export function functionArn(logicalId: string): string {
  return `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${logicalId}`;
}

/** `arn:aws:lambda:…:function:<id>` → `<id>`. */
export function functionIdOf(arn: string): string | undefined {
  return /^arn:[a-z-]+:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9_-]+)$/.exec(arn)?.[1];
}
