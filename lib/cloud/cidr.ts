import { InvalidCidrError } from "./errors.ts";

/** An IP block: the network address as an integer, and the prefix length. */
export interface Cidr {
  family: 4 | 6;
  /** The address with host bits cleared. */
  network: bigint;
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;

/**
 * Parses an IPv4 or IPv6 CIDR block; a bare address is a /32 (/128). Host bits are cleared, so
 * `10.0.1.5/24` is `10.0.1.0/24`.
 *
 * @throws InvalidCidrError when `text` is neither.
 */
export function parseCidr(text: string): Cidr {
  const cidr = tryParseCidr(text);
  if (cidr === undefined) throw new InvalidCidrError(text);
  return cidr;
}

/** As `parseCidr`, but `undefined` instead of an error. */
export function tryParseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  const family: 4 | 6 = addressText.includes(":") ? 6 : 4;
  const address = family === 4 ? parseIpv4(addressText) : parseIpv6(addressText);
  if (address === undefined) return undefined;
  const bits = BITS[family];
  let prefix: number = bits;
  if (prefixText !== undefined) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
    prefix = Number(prefixText);
    if (prefix > bits) return undefined;
  }
  return { family, network: truncate(address, bits, prefix), prefix };
}

/**
 * Whether every address of `inner` lies in `outer`. Families never mix: an IPv6 block contains
 * no IPv4 address (a security group's `::/0` does not admit IPv4 traffic).
 */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix) return false;
  const bits = BITS[outer.family];
  return truncate(inner.network, bits, outer.prefix) === outer.network;
}

/** `address` with all but its first `prefix` bits cleared (a shift by the full width is 0n). */
function truncate(address: bigint, bits: number, prefix: number): bigint {
  const hostBits = BigInt(bits - prefix);
  return (address >> hostBits) << hostBits;
}

/** Dotted quad, decimal octets 0..255 without leading zeros (which some parsers read as octal). */
function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

/** RFC 4291 text form: up to eight hex groups, one `::`, an optional trailing dotted quad. */
function parseIpv6(text: string): bigint | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = groupsOf(halves[0] ?? "", halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? "", true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const given = head.length + tail.length;
  if (halves.length === 2 ? given > 7 : given !== 8) return undefined;
  const groups = [...head, ...new Array<number>(8 - given).fill(0), ...tail];
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
}

/** The 16-bit groups of one side of `::`; a dotted quad ending the address counts as two. */
function groupsOf(side: string, endsAddress: boolean): number[] | undefined {
  if (side === "") return [];
  const parts = side.split(":");
  const groups: number[] = [];
  for (const [index, part] of parts.entries()) {
    if (endsAddress && index === parts.length - 1 && part.includes(".")) {
      const v4 = parseIpv4(part);
      if (v4 === undefined) return undefined;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      groups.push(Number.parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}
