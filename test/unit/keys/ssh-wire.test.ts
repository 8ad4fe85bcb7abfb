import { describe, expect, it } from "vitest";
import {
  decodeBase64Strict,
  SshReader,
  sshMpint,
  sshString,
  WireFormatError,
} from "../../../lib/keys/ssh-wire.ts";

const hex = (text: string) => Buffer.from(text.replace(/ /g, ""), "hex");

describe("SSH wire encoding", () => {
  // The mpint examples of RFC 4251 section 5 (non-negative ones).
  it.each([
    ["0", "", "00000000", ""],
    [
      "9a378f9b2e332a7",
      "09 a3 78 f9 b2 e3 32 a7",
      "00000008 09 a3 78 f9 b2 e3 32 a7",
      "09 a3 78 f9 b2 e3 32 a7",
    ],
    ["80", "80", "00000002 00 80", "80"],
    ["7f with leading zero bytes", "00 00 7f", "00000001 7f", "7f"],
  ])(
    "encodes mpint %s as RFC 4251 does, and reads it back",
    (_name, magnitude, encoded, readBack) => {
      expect(sshMpint(hex(magnitude))).toEqual(hex(encoded));
      expect(new SshReader(hex(encoded)).readMpint()).toEqual(hex(readBack));
    },
  );

  it("encodes strings with a 32-bit length prefix", () => {
    expect(sshString("testing")).toEqual(hex("00000007 74657374696e67"));
  });

  it("reads fields in order and notices trailing bytes", () => {
    const reader = new SshReader(
      Buffer.concat([sshString("a"), sshString(Buffer.of(1, 2)), Buffer.of(9)]),
    );
    expect(reader.readUtf8()).toBe("a");
    expect(reader.readString()).toEqual(Buffer.of(1, 2));
    expect(() => reader.expectEnd()).toThrow(WireFormatError);
  });

  it.each([
    ["a truncated length", hex("0000")],
    ["a length past the end", hex("00000010 41")],
  ])("refuses %s", (_name, bytes) => {
    expect(() => new SshReader(bytes).readString()).toThrow(WireFormatError);
  });

  it("refuses negative mpints", () => {
    expect(() => new SshReader(hex("00000001 ff")).readMpint()).toThrow(WireFormatError);
  });
});

describe("decodeBase64Strict", () => {
  it("decodes canonical padded base64", () => {
    expect(decodeBase64Strict("AAAAC3Nz")).toEqual(Buffer.from("AAAAC3Nz", "base64"));
    expect(decodeBase64Strict("YQ==")).toEqual(Buffer.from("a"));
  });

  it.each([
    ["empty", ""],
    ["bad length", "YQ="],
    ["bad character", "YQ*="],
    ["url alphabet", "a-b_"],
  ])("rejects %s input", (_name, text) => {
    expect(decodeBase64Strict(text)).toBeUndefined();
  });
});
