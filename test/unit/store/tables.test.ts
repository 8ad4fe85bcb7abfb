import { describe, expect, it } from "vitest";
import {
  createTableInput,
  keyAttributesOf,
  TABLES,
  tableNames,
} from "../../../lib/store/tables.ts";

describe("table design", () => {
  it("builds the failures table with its three indexes on the shared sort key, on demand", () => {
    const input = createTableInput(TABLES.failures, "kh-failures");
    expect(input).toMatchObject({
      TableName: "kh-failures",
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
    });
    expect(input.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema])).toEqual([
      [
        "byDevice",
        [
          { AttributeName: "deviceId", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
      ],
      [
        "byCause",
        [
          { AttributeName: "cause", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
      ],
      [
        "byTime",
        [
          { AttributeName: "kind", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
      ],
    ]);
    // Each attribute defined once, though `sk` keys three indexes.
    expect(input.AttributeDefinitions?.map((a) => a.AttributeName).sort()).toEqual(
      ["cause", "deviceId", "id", "kind", "sk"].sort(),
    );
  });

  it("keys the keys table by a constant partition and a numeric generation, with no index", () => {
    const input = createTableInput(TABLES.keys, "kh-keys");
    expect(input.KeySchema).toEqual([
      { AttributeName: "kind", KeyType: "HASH" },
      { AttributeName: "generation", KeyType: "RANGE" },
    ]);
    expect(input.AttributeDefinitions).toContainEqual({
      AttributeName: "generation",
      AttributeType: "N",
    });
    expect(input.GlobalSecondaryIndexes).toBeUndefined();
  });

  it("names the attributes of a query's LastEvaluatedKey per index", () => {
    expect(keyAttributesOf(TABLES.devices, "byStatus").sort()).toEqual(["id", "status"]);
    expect(keyAttributesOf(TABLES.runs, "byDevice").sort()).toEqual([
      "deviceId",
      "id",
      "startedAt",
    ]);
    expect(keyAttributesOf(TABLES.keys)).toEqual(["kind", "generation"]);
  });

  it("derives table names from a prefix", () => {
    expect(tableNames("keyheal-dev")).toEqual({
      devices: "keyheal-dev-devices",
      failures: "keyheal-dev-failures",
      keys: "keyheal-dev-keys",
      runs: "keyheal-dev-runs",
      jobs: "keyheal-dev-jobs",
    });
  });
});
