import { generateKeyPairSync } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { parseArmor } from "../../../lib/keys/armor.ts";
import { UnparseableKeyError } from "../../../lib/keys/index.ts";
import {
  decodeOpenSshEnvelope,
  encodeOpenSshPrivateKey,
} from "../../../lib/keys/openssh-format.ts";
import { sshKeyMaterialOf } from "../../../lib/keys/ssh-key-material.ts";
import { SshReader } from "../../../lib/keys/ssh-wire.ts";
import { KeyDir } from "./support/ssh-keygen.ts";

const dir = new KeyDir();
afterAll(() => dir.remove());

const material = () => sshKeyMaterialOf(generateKeyPairSync("ed25519").privateKey);

describe("OpenSSH private key format", () => {
  it("writes the layout ssh-keygen writes: 70-column base64 and a final newline", () => {
    const text = encodeOpenSshPrivateKey({ ...material(), comment: "c", checkInt: 42 });
    const lines = text.split("\n");

    expect(lines[0]).toBe("-----BEGIN OPENSSH PRIVATE KEY-----");
    expect(lines.at(-2)).toBe("-----END OPENSSH PRIVATE KEY-----");
    expect(lines.at(-1)).toBe("");
    const body = lines.slice(1, -2);
    expect(body.slice(0, -1).every((line) => line.length === 70)).toBe(true);
  });

  it.each(["", "c", "a longer comment of odd length"])(
    "pads the private section to whole cipher blocks with 1, 2, 3… (comment %j)",
    (comment) => {
      const parts = { ...material(), comment, checkInt: 0x01020304 };
      const reader = new SshReader(
        parseArmor(encodeOpenSshPrivateKey(parts).trim()).body.subarray(15),
      );
      for (const _field of ["cipher", "kdf", "kdf options"]) reader.readString();
      expect(reader.readUint32()).toBe(1);
      expect(reader.readString()).toEqual(parts.publicBlob);
      const section = reader.readString();

      expect(section.length % 8).toBe(0);
      const unpadded = 8 + parts.privateKeyBlob.length + 4 + Buffer.byteLength(comment);
      const padding = [...section.subarray(unpadded)];
      expect(padding).toEqual(padding.map((_, i) => i + 1));
      expect(section.readUInt32BE(0)).toBe(section.readUInt32BE(4));
    },
  );

  it("reads the cleartext header of our keys and of ssh-keygen's encrypted keys", () => {
    const ours = material();
    const ourEnvelope = decodeOpenSshEnvelope(
      parseArmor(encodeOpenSshPrivateKey({ ...ours, comment: "", checkInt: 1 }).trim()).body,
    );
    expect(ourEnvelope).toEqual({
      cipherName: "none",
      kdfName: "none",
      publicBlobs: [ours.publicBlob],
      privateSection: expect.any(Buffer),
    });
    // Unencrypted, the private section opens with the check value, twice.
    expect(ourEnvelope.privateSection.subarray(0, 8).toString("hex")).toBe("0000000100000001");

    const theirs = dir.generate(["-t", "ed25519", "-N", "a passphrase", "-a", "1"]);
    const theirEnvelope = decodeOpenSshEnvelope(parseArmor(theirs.privateKey.trim()).body);
    expect(theirEnvelope.cipherName).toBe("aes256-ctr");
    expect(theirEnvelope.kdfName).toBe("bcrypt");
    expect(theirEnvelope.publicBlobs[0]?.toString("base64")).toBe(theirs.publicKey.split(" ")[1]);
  });

  it.each([
    ["the wrong magic", Buffer.from("openssh-key-v2\0rest")],
    ["a truncated header", Buffer.from("openssh-key-v1\0\0\0\0\x04no")],
    [
      "no keys",
      Buffer.concat([
        Buffer.from("openssh-key-v1\0"),
        Buffer.from("0000000000000000000000000000000000000000", "hex"),
      ]),
    ],
  ])("refuses a body with %s", (_name, body) => {
    expect(() => decodeOpenSshEnvelope(body)).toThrow(UnparseableKeyError);
  });
});
