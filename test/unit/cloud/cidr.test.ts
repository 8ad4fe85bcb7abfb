import { describe, expect, it } from "vitest";
import { cidrContains, parseCidr, tryParseCidr } from "../../../lib/cloud/cidr.ts";
import { InvalidCidrError } from "../../../lib/cloud/errors.ts";

describe("parseCidr", () => {
  it.each([
    ["10.0.0.0/16", 4, 0x0a000000n, 16],
    ["10.0.1.5/24", 4, 0x0a000100n, 24],
    ["10.0.0.5", 4, 0x0a000005n, 32],
    ["0.0.0.0/0", 4, 0n, 0],
    ["255.255.255.255/32", 4, 0xffffffffn, 32],
    ["::/0", 6, 0n, 0],
    ["::1", 6, 1n, 128],
    ["2001:db8::/32", 6, 0x20010db8n << 96n, 32],
    ["2001:DB8:0:0:0:0:0:1/128", 6, (0x20010db8n << 96n) | 1n, 128],
    ["::ffff:10.0.0.1", 6, (0xffffn << 32n) | 0x0a000001n, 128],
    ["fe80::1:2/64", 6, 0xfe80n << 112n, 64],
  ] as const)("%s", (text, family, network, prefix) => {
    expect(parseCidr(text)).toEqual({ family, network, prefix });
  });

  it.each([
    "",
    "10.0.0",
    "10.0.0.0.0",
    "10.0.0.256",
    "10.0.0.01",
    "10.0.0.0/33",
    "10.0.0.0/",
    "10.0.0.0/-1",
    "10.0.0.0/08",
    "10.0.0.0/16/8",
    " 10.0.0.0/16",
    "sg-0123",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "12345::",
    "::/129",
    "1.2.3.4::",
    "fe80::1%eth0",
    ":1",
  ])("refuses %j", (text) => {
    expect(tryParseCidr(text)).toBeUndefined();
    expect(() => parseCidr(text)).toThrow(InvalidCidrError);
  });
});

describe("cidrContains", () => {
  const contains = (outer: string, inner: string) =>
    cidrContains(parseCidr(outer), parseCidr(inner));

  it.each([
    ["10.0.0.0/16", "10.0.1.0/24", true],
    ["10.0.1.128/25", "10.0.1.0/24", false],
    ["10.0.1.0/24", "10.0.1.128/25", true],
    ["10.0.0.0/16", "10.1.0.0/24", false],
    ["10.0.0.0/16", "10.0.0.0/16", true],
    ["10.0.0.0/16", "10.0.0.0/15", false],
    ["0.0.0.0/0", "203.0.113.7/32", true],
    ["0.0.0.0/0", "0.0.0.0/0", true],
    ["203.0.113.7/32", "203.0.113.7", true],
    ["203.0.113.7/32", "203.0.113.8", false],
    ["128.0.0.0/1", "200.1.1.1", true],
    ["128.0.0.0/1", "127.255.255.255", false],
    ["::/0", "2001:db8::1", true],
    ["::/0", "10.0.0.1", false],
    ["0.0.0.0/0", "::1", false],
    ["2001:db8::/32", "2001:db8:ffff::/48", true],
    ["2001:db8::/32", "2001:db9::/48", false],
  ] as const)("%s contains %s: %s", (outer, inner, expected) => {
    expect(contains(outer, inner)).toBe(expected);
  });
});
