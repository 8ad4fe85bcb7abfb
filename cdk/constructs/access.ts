import { ArnFormat, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import type { Construct } from "constructs";

/** What a function does with keyheal's secrets; each maps to the Secrets Manager calls of lib/store. */
export type SecretUse =
  /** `get`: read a secret; an expired short-lived one is deleted on the way. */
  | "read"
  /** `put`: create a secret (or a new version of it) with its expiry tag. */
  | "write"
  /** `delete`: describe, then delete. */
  | "delete";

const SECRET_ACTIONS: Record<SecretUse, readonly string[]> = {
  read: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
  write: [
    "secretsmanager:CreateSecret",
    "secretsmanager:PutSecretValue",
    "secretsmanager:TagResource",
    "secretsmanager:UntagResource",
  ],
  delete: ["secretsmanager:DescribeSecret", "secretsmanager:DeleteSecret"],
};

/** The KMS calls Secrets Manager makes with the caller's permissions, per use. */
const KEY_ACTIONS: Record<SecretUse, readonly string[]> = {
  read: ["kms:Decrypt"],
  write: ["kms:GenerateDataKey", "kms:Decrypt"],
  delete: [],
};

/** `arn:…:secretsmanager:<region>:<account>:secret:<prefix>*`: every secret keyheal writes. */
export function secretsArn(scope: Construct, prefix: string): string {
  return Stack.of(scope).formatArn({
    service: "secretsmanager",
    resource: "secret",
    resourceName: `${prefix}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * Lets `grantee` use keyheal's secrets (only under `prefix`) for `uses`, and the secrets key
 * only through Secrets Manager.
 */
export function grantSecrets(
  grantee: iam.IGrantable,
  scope: Construct,
  options: { prefix: string; key: kms.IKey; uses: readonly SecretUse[] },
): void {
  if (options.uses.length === 0) return;
  const actions = [...new Set(options.uses.flatMap((use) => SECRET_ACTIONS[use]))].sort();
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions, resources: [secretsArn(scope, options.prefix)] }),
  );
  const keyActions = [...new Set(options.uses.flatMap((use) => KEY_ACTIONS[use]))].sort();
  if (keyActions.length === 0) return;
  const stack = Stack.of(scope);
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: keyActions,
      resources: [options.key.keyArn],
      conditions: {
        StringEquals: { "kms:ViaService": `secretsmanager.${stack.region}.amazonaws.com` },
      },
    }),
  );
}

/**
 * EC2 Describe calls (instance state and tags, security-group rules). EC2 supports no
 * resource-level permissions for Describe* actions, so these are the one place a function's
 * own policy names `*`.
 */
export function grantEc2Describe(grantee: iam.IGrantable, actions: readonly string[]): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: [...actions], resources: ["*"] }),
  );
}
