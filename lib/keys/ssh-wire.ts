/**
 * SSH wire encoding (RFC 4251 §5): the `uint32`, `string` and `mpint` fields
 * that public key blobs and OpenSSH private key files are made of. Pure.
 */

/** Thrown by {@link SshReader} on malformed input; callers translate it into a {@link KeyError}. */
export class WireFormatError extends Error {
  override name = "WireFormatError";
}

/** Encodes a 32-bit unsigned big-endian integer. */
export function sshUint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/** Encodes a length-prefixed `string` field. */
export function sshString(value: Buffer | string): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  return Buffer.concat([sshUint32(bytes.length), bytes]);
}

/** Encodes a non-negative `mpint` from its unsigned big-endian magnitude. */
export function sshMpint(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  // A set high bit would read back as negative, so such values get a zero byte in front.
  const needsZero = trimmed.length > 0 && (trimmed[0] ?? 0) & 0x80;
  return sshString(needsZero ? Buffer.concat([Buffer.of(0), trimmed]) : trimmed);
}

/** Sequential reader over SSH wire-format bytes; every read is bounds-checked. */
export class SshReader {
  readonly #buf: Buffer;
  #pos = 0;

  constructor(buf: Buffer) {
    this.#buf = buf;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  readUint32(): number {
    if (this.remaining < 4) throw new WireFormatError("truncated uint32");
    const value = this.#buf.readUInt32BE(this.#pos);
    this.#pos += 4;
    return value;
  }

  readBytes(length: number): Buffer {
    if (this.remaining < length) throw new WireFormatError("truncated field");
    const value = this.#buf.subarray(this.#pos, this.#pos + length);
    this.#pos += length;
    return value;
  }

  readString(): Buffer {
    return this.readBytes(this.readUint32());
  }

  readUtf8(): string {
    return this.readString().toString("utf8");
  }

  /** Reads a non-negative `mpint` and returns its magnitude without leading zero bytes. */
  readMpint(): Buffer {
    const raw = this.readString();
    if (raw.length > 0 && (raw[0] ?? 0) & 0x80) throw new WireFormatError("negative mpint");
    let start = 0;
    while (start < raw.length && raw[start] === 0) start++;
    return raw.subarray(start);
  }

  /** Throws unless every byte has been read. */
  expectEnd(): void {
    if (this.remaining !== 0) throw new WireFormatError("trailing bytes");
  }
}

/** Strict base64 decoding: `undefined` for anything but canonical, padded base64. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (text.length === 0 || text.length % 4 !== 0) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, "base64");
}
