import { describe, expect, it } from "vitest";
import {
  AuthorizedKeysTooLargeError,
  ConflictingKeyChangeError,
  editAuthorizedKeys,
  findKeys,
  type KeyChange,
  UnparseableLineError,
} from "../../../lib/authorized-keys/index.ts";
import { blobOfType, bytes, generateKey, keyLine } from "../../fixtures/authorized-keys/keys.ts";

const oldKey = generateKey("ed25519", "old@laptop");
const newKey = generateKey("ed25519", "new@laptop");
const other = generateKey("ed25519", "bob@desk");
const rsa = generateKey("rsa", "carol@server");

const rotate: KeyChange = { present: [newKey], absent: [oldKey] };

function edit(text: string | Buffer, change: KeyChange = rotate) {
  return editAuthorizedKeys(typeof text === "string" ? bytes(text) : text, change);
}

describe("editAuthorizedKeys keeps what it does not manage", () => {
  const unmanaged = [
    "# fleet keys, managed by keyheal",
    "",
    "   \t ",
    `command="echo \\"a, b\\"",from="10.0.0.1,10.0.0.2" ${keyLine(other, { comment: "c" })}`,
    `${keyLine(other, { comment: "dos" })}\r`,
    `sk-ssh-ed25519@openssh.com ${blobOfType("sk-ssh-ed25519@openssh.com", Buffer.alloc(40, 1)).toString("base64")} yubikey`,
    `ssh-foo ${blobOfType("ssh-foo", Buffer.from("x")).toString("base64")}`,
    keyLine(rsa, { comment: "dup" }),
    keyLine(rsa, { comment: "dup" }),
    `cert-authority ${keyLine(other, { comment: "ca" })}`,
    `ssh-ed25519 not-base64 garbage`,
  ];

  it("keeps every unmanaged line byte for byte and in order", () => {
    const file = `${unmanaged.join("\n")}\n`;
    const result = edit(file, { present: [other], absent: [oldKey] });
    expect(result.content.toString("latin1")).toBe(file);
    expect(result.changed).toBe(false);
  });

  it("keeps them in place around removed lines", () => {
    const [first, ...rest] = unmanaged;
    const file = `${first}\n${keyLine(oldKey)}\n${rest.join("\n")}\n`;
    const result = edit(file, { present: [], absent: [oldKey] });
    expect(result.content.toString("latin1")).toBe(`${unmanaged.join("\n")}\n`);
    expect(result.removed).toBe(1);
  });

  it("keeps a CRLF line byte for byte", () => {
    const file = `${keyLine(other)}\r\n# note\r\n`;
    const result = edit(file);
    expect(result.content.toString("latin1")).toBe(`${file}${keyLine(newKey)} new@laptop\n`);
  });

  it("keeps bytes that are not UTF-8 untouched", () => {
    const file = Buffer.concat([
      bytes("# caf"),
      Buffer.from([0xe9, 0xc3, 0x28, 0xff, 0xfe, 0x0a]),
      bytes(`${keyLine(other)} `),
      Buffer.from([0x80, 0x81, 0x0a]),
    ]);
    const result = edit(file, { present: [other], absent: [oldKey] });
    expect(result.content.equals(file)).toBe(true);
    const rotated = edit(file);
    expect(rotated.content.subarray(0, file.length).equals(file)).toBe(true);
  });
});

describe("editAuthorizedKeys recognises keys by their decoded blob", () => {
  it("counts a key as present whatever its comment says", () => {
    const result = edit(`${keyLine(newKey, { comment: "renamed" })}\n`);
    expect(result.changed).toBe(false);
    expect(result.added).toEqual([]);
  });

  it("does not take another key with the same comment for the managed one", () => {
    const result = edit(`${keyLine(other, { comment: "new@laptop" })}\n`);
    expect(result.added).toEqual([newKey]);
  });

  it("removes an absent key whatever its comment says", () => {
    const result = edit(`${keyLine(oldKey, { comment: "not-old" })}\n# keep\n`, {
      present: [],
      absent: [oldKey],
    });
    expect(result.content.toString("latin1")).toBe("# keep\n");
  });

  it("matches base64 spelled with extra whitespace inside", () => {
    const spread = `${oldKey.base64.slice(0, 30)}\v${oldKey.base64.slice(30)}`;
    const result = edit(`ssh-ed25519 ${spread} old\n`, { present: [], absent: [oldKey] });
    expect(result.removed).toBe(1);
  });

  it("does not take a line whose declared type differs from the blob's for the key", () => {
    const file = `ssh-rsa ${oldKey.base64} wrong type\nssh-rsa ${newKey.base64}\n`;
    const result = edit(file);
    expect(result.removed).toBe(0);
    expect(result.added).toEqual([newKey]);
    expect(result.content.toString("latin1")).toBe(`${file}${keyLine(newKey)} new@laptop\n`);
  });
});

describe("editAuthorizedKeys and options", () => {
  it("issue 10.3: removes a cert-authority line whose key is absent, wherever the option sits", () => {
    const file = [
      "# kept",
      `cert-authority ${keyLine(oldKey)}`,
      `restrict,Cert-Authority,principals="ops" ${keyLine(oldKey, { comment: "ca" })}`,
      `cert-authority ${keyLine(other)}`,
      keyLine(oldKey),
      "",
    ].join("\n");
    const result = edit(file, { present: [], absent: [oldKey] });
    expect(result.content.toString("latin1")).toBe(`# kept\ncert-authority ${keyLine(other)}\n`);
    expect(result).toMatchObject({ removed: 3, removedCertAuthorities: 2, changed: true });
  });

  it("issue 10.3: keeps a cert-authority line for a key that is present or not managed", () => {
    const file = `cert-authority ${keyLine(newKey)}\ncert-authority ${keyLine(other)}\n`;
    const result = edit(file, { present: [newKey], absent: [oldKey] });
    expect(result.content.toString("latin1")).toBe(`${file}${keyLine(newKey)} new@laptop\n`);
    expect(result).toMatchObject({ removed: 0, removedCertAuthorities: 0 });
  });

  it("does not count a cert-authority line as the present key", () => {
    const file = `cert-authority,principals="ops" ${keyLine(newKey)}\n`;
    const result = edit(file, { present: [newKey], absent: [] });
    expect(result.added).toEqual([newKey]);
    expect(result.content.toString("latin1")).toBe(`${file}${keyLine(newKey)} new@laptop\n`);
  });

  it("counts a key line with options as the present key, adding no duplicate", () => {
    const file = `from="10.0.0.0/8",command="uptime" ${keyLine(newKey)}\n`;
    const result = edit(file, { present: [newKey], absent: [] });
    expect(result.changed).toBe(false);
  });

  it("does not count a line sshd refuses for its options as the present key", () => {
    const file = `principals="root" ${keyLine(newKey)}\nno-such-option ${keyLine(newKey)}\n`;
    const result = edit(file, { present: [newKey], absent: [] });
    expect(result.content.toString("latin1")).toBe(`${file}${keyLine(newKey)} new@laptop\n`);
  });

  it("removes a key line with options when its key is absent", () => {
    const file = `# a\nno-pty,from="10.0.0.1,10.0.0.2" ${keyLine(oldKey)} x\n# b\n`;
    const result = edit(file, { present: [], absent: [oldKey] });
    expect(result.content.toString("latin1")).toBe("# a\n# b\n");
  });
});

describe("editAuthorizedKeys adds present keys", () => {
  it("appends missing keys at the end, one per line, in order", () => {
    const result = edit(`# top\n${keyLine(other)}\n`, { present: [newKey, rsa], absent: [] });
    expect(result.content.toString("latin1")).toBe(
      `# top\n${keyLine(other)}\n${keyLine(newKey)} new@laptop\n${keyLine(rsa)} carol@server\n`,
    );
    expect(result.added).toEqual([newKey, rsa]);
    expect(result.changed).toBe(true);
  });

  it("omits an empty or missing comment", () => {
    const bare = { algorithm: newKey.algorithm, blob: newKey.blob };
    expect(edit("", { present: [bare], absent: [] }).content.toString()).toBe(
      `${keyLine(newKey)}\n`,
    );
    expect(edit("", { present: [{ ...bare, comment: "" }], absent: [] }).content.toString()).toBe(
      `${keyLine(newKey)}\n`,
    );
  });

  it("writes a comment as UTF-8", () => {
    const result = edit("", { present: [{ ...newKey, comment: "zoë@例え" }], absent: [] });
    expect(result.content.toString("utf8")).toBe(`${keyLine(newKey)} zoë@例え\n`);
  });

  it("turns an empty file into just the new lines", () => {
    expect(edit("").content.toString("latin1")).toBe(`${keyLine(newKey)} new@laptop\n`);
  });

  it("ends an unterminated last line before appending", () => {
    const result = edit(`# no newline at end`);
    expect(result.content.toString("latin1")).toBe(
      `# no newline at end\n${keyLine(newKey)} new@laptop\n`,
    );
  });

  it("adds no blank line after a CRLF-terminated last line", () => {
    const result = edit(`# dos\r\n`);
    expect(result.content.toString("latin1")).toBe(`# dos\r\n${keyLine(newKey)} new@laptop\n`);
  });

  it("appends a key listed twice only once", () => {
    const result = edit("", { present: [newKey, { ...newKey, comment: "again" }], absent: [] });
    expect(result.content.toString("latin1")).toBe(`${keyLine(newKey)} new@laptop\n`);
    expect(result.added).toHaveLength(1);
  });
});

describe("editAuthorizedKeys removes absent keys", () => {
  it("removes every plain line holding the key, terminators included", () => {
    const file = [
      `${keyLine(oldKey)} one\r\n`,
      "# keep\n",
      `  ${keyLine(oldKey)} two\n`,
      `no-pty ${keyLine(oldKey)} three\n`,
      `${keyLine(other)}\n`,
      `${keyLine(oldKey)} last-unterminated`,
    ].join("");
    const result = edit(file, { present: [], absent: [oldKey] });
    expect(result.content.toString("latin1")).toBe(`# keep\n${keyLine(other)}\n`);
    expect(result.removed).toBe(4);
  });

  it("can empty the file", () => {
    const result = edit(`${keyLine(oldKey)}\n`, { present: [], absent: [oldKey] });
    expect(result.content.length).toBe(0);
    expect(result.changed).toBe(true);
  });

  it("replaces a key in one edit", () => {
    const result = edit(`# a\n${keyLine(oldKey)} old@laptop\n# b`);
    expect(result.content.toString("latin1")).toBe(`# a\n# b\n${keyLine(newKey)} new@laptop\n`);
    expect(result).toMatchObject({ changed: true, removed: 1, added: [newKey] });
  });

  it("refuses a key that is both present and absent", () => {
    expect(() => edit("", { present: [newKey], absent: [{ ...newKey, comment: "x" }] })).toThrow(
      ConflictingKeyChangeError,
    );
  });
});

describe("editAuthorizedKeys is safe to repeat", () => {
  it("changes nothing the second time", () => {
    const file = `# a\r\n${keyLine(oldKey)}\ncert-authority ${keyLine(oldKey)}\nlast`;
    const once = edit(file);
    const twice = edit(once.content);
    expect(twice.changed).toBe(false);
    expect(twice.content.equals(once.content)).toBe(true);
    expect(twice).toMatchObject({ added: [], removed: 0, removedCertAuthorities: 0 });
  });

  it("returns the input byte for byte when nothing changes", () => {
    const file = bytes(`${keyLine(newKey)}\r\n# x\nno newline`);
    const result = editAuthorizedKeys(file, rotate);
    expect(result.changed).toBe(false);
    expect(result.content.equals(file)).toBe(true);
    expect(editAuthorizedKeys(file, { present: [], absent: [] }).content.equals(file)).toBe(true);
  });
});

describe("editAuthorizedKeys and lines it cannot parse", () => {
  it("aborts when an unparseable line holds an absent key, naming the line", () => {
    const file = bytes(`# a\ncommand="echo hi ${keyLine(oldKey)}\n`);
    const before = Buffer.from(file);
    let error: unknown;
    try {
      editAuthorizedKeys(file, rotate);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnparseableLineError);
    expect(error).toMatchObject({ lineNumber: 2, reason: "unclosed-quote" });
    expect((error as Error).message).toMatch(/line 2.*by hand/s);
    expect(file.equals(before)).toBe(true);
  });

  it("keeps unparseable lines that hold no managed key", () => {
    const file = `command="echo hi ${keyLine(other)}\nfoo=bar ${keyLine(other)}\n`;
    const result = edit(file);
    expect(result.content.toString("latin1")).toBe(`${file}${keyLine(newKey)} new@laptop\n`);
  });

  it("keeps an unparseable line holding a present key and still appends the key", () => {
    const file = `command="broken ${keyLine(newKey)}\n`;
    const result = edit(file, { present: [newKey], absent: [] });
    expect(result.content.toString("latin1")).toBe(`${file}${keyLine(newKey)} new@laptop\n`);
  });

  it("keeps a comment that mentions an absent key", () => {
    const file = `# was: ${keyLine(oldKey)}\n`;
    expect(edit(file, { present: [], absent: [oldKey] }).changed).toBe(false);
  });

  it("refuses implausibly large input", () => {
    expect(() => edit(Buffer.alloc(2 * 1024 * 1024, "# filler\n"))).toThrow(
      AuthorizedKeysTooLargeError,
    );
  });
});

describe("findKeys", () => {
  it("returns the keys the file authorizes as plain keys", () => {
    const file = bytes(
      `no-pty ${keyLine(newKey)}\ncert-authority ${keyLine(oldKey)}\n# ${keyLine(rsa)}\n`,
    );
    expect(findKeys(file, [oldKey, newKey, rsa, other])).toEqual([newKey]);
  });
});
