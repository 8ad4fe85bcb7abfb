import { describe, expect, it } from "vitest";
import { InvalidInventoryError } from "../../../lib/devices/errors.ts";
import { parseInventory } from "../../../lib/devices/inventory.ts";

function errorOf(text: string): InvalidInventoryError {
  try {
    parseInventory(text, "fleet.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInventoryError);
    return error as InvalidInventoryError;
  }
  throw new Error("expected the inventory to be refused");
}

describe("inventory YAML", () => {
  it("reads every field of the contract, port 22 by default", () => {
    const devices = parseInventory(
      [
        "devices:",
        "  - id: web-1",
        "    host: 10.0.0.5",
        "    adminUser: ec2-user",
        "    instanceId: i-0123456789abcdef0",
        "    region: eu-west-1",
        `    hostKeyFingerprint: "SHA256:${"a".repeat(43)}"`,
        "    authorizedKeysPath: /etc/ssh/keys/ec2-user",
        "  - { id: db-1, host: db.internal, port: 2222, adminUser: admin }",
      ].join("\n"),
    );
    expect(devices).toEqual([
      {
        id: "web-1",
        host: "10.0.0.5",
        port: 22,
        adminUser: "ec2-user",
        instanceId: "i-0123456789abcdef0",
        region: "eu-west-1",
        hostKeyFingerprint: `SHA256:${"a".repeat(43)}`,
        authorizedKeysPath: "/etc/ssh/keys/ec2-user",
      },
      { id: "db-1", host: "db.internal", port: 2222, adminUser: "admin" },
    ]);
  });

  it("names each bad field, the file and what is expected", () => {
    const error = errorOf(
      "devices:\n  - id: a b\n    host: h\n    port: 70000\n    adminuser: root\n",
    );
    expect(error.issues.map((i) => i.path)).toEqual([
      "devices[0].id",
      "devices[0].port",
      "devices[0].adminUser",
      "devices[0].adminuser",
    ]);
    expect(error.issues[2]?.problem).toBe("is required");
    expect(error.message).toContain("fleet.yaml");
    expect(error.message).toContain("devices[0].port: must be from 1 to 65535");
  });

  it("names the line of a YAML syntax error", () => {
    expect(errorOf("devices:\n  - id: [unclosed\n").issues[0]?.path).toMatch(
      /^line \d+, column \d+$/,
    );
  });

  it("refuses duplicate ids, an empty file and a file without devices", () => {
    const twice =
      "devices:\n  - { id: a, host: h, adminUser: u }\n  - { id: a, host: i, adminUser: u }\n";
    expect(errorOf(twice).issues).toEqual([
      { path: "devices[1].id", problem: 'duplicates the id of entry 0 ("a")' },
    ]);
    expect(errorOf("").issues[0]?.path).toBe("devices");
    expect(errorOf("hosts: []").issues.map((i) => i.path)).toEqual(["devices", "hosts"]);
  });
});
