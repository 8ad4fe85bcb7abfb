import { describeIssues, type SchemaIssue } from "../validation/issues.ts";

/** An inventory file that cannot be used: bad YAML, or devices that do not fit the schema. */
export class InvalidInventoryError extends Error {
  override name = "InvalidInventoryError";
  /** The file (or other source) the inventory came from. */
  readonly source: string;
  /** One per bad field: `devices[2].port` and what is wrong with it. */
  readonly issues: SchemaIssue[];

  constructor(source: string, issues: SchemaIssue[], options?: ErrorOptions) {
    super(
      `Invalid inventory ${source}: ${describeIssues(issues)}. Expected devices: [{ id, host, port, adminUser, instanceId?, region?, hostKeyFingerprint?, authorizedKeysPath? }].`,
      options,
    );
    this.source = source;
    this.issues = issues;
  }
}
