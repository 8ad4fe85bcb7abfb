import { RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as kms from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import {
  type KeyAttribute,
  TABLES,
  type TableDesign,
  type TableKind,
} from "../../lib/store/tables.ts";

/** `devices` → `DEVICES_TABLE`: the variable each function reads a table's name from. */
export type TableVariable<K extends string = TableKind> = `${Uppercase<K>}_TABLE`;

/** Every table's name under its environment variable. */
export type TableEnvironment = { [K in TableKind as TableVariable<K>]: string };

export interface TablesProps {
  key: kms.IKey;
  /** Dev mode: no deletion protection, and the tables go with the stack. */
  devMode: boolean;
}

function attribute(key: KeyAttribute): dynamodb.Attribute {
  return {
    name: key.name,
    type: key.type === "S" ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
  };
}

/**
 * One DynamoDB table per entry of `TABLES` (lib/store/tables.ts), the same design the adapters
 * query and local mode creates: on-demand, point-in-time recovery, encrypted with the data key,
 * TTL and indexes as designed; deletion protection and retention outside dev mode.
 */
export class Tables extends Construct {
  readonly byKind: Readonly<Record<TableKind, dynamodb.Table>>;

  constructor(scope: Construct, id: string, props: TablesProps) {
    super(scope, id);
    const byKind: Partial<Record<TableKind, dynamodb.Table>> = {};
    for (const kind of Object.keys(TABLES) as TableKind[]) {
      const design: TableDesign = TABLES[kind];
      const table = new dynamodb.Table(this, kind, {
        partitionKey: attribute(design.partitionKey),
        ...(design.sortKey ? { sortKey: attribute(design.sortKey) } : {}),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: props.key,
        ...(design.ttlAttribute ? { timeToLiveAttribute: design.ttlAttribute } : {}),
        deletionProtection: !props.devMode,
        removalPolicy: props.devMode ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      });
      for (const [indexName, index] of Object.entries(design.indexes)) {
        table.addGlobalSecondaryIndex({
          indexName,
          partitionKey: attribute(index.partitionKey),
          ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
          projectionType: dynamodb.ProjectionType.ALL,
        });
      }
      byKind[kind] = table;
    }
    this.byKind = byKind as Record<TableKind, dynamodb.Table>;
  }

  /** The table names as the functions' environment variables expect them. */
  get environment(): TableEnvironment {
    return Object.fromEntries(
      Object.entries(this.byKind).map(([kind, table]) => [
        `${kind.toUpperCase()}_TABLE`,
        table.tableName,
      ]),
    ) as TableEnvironment;
  }
}
