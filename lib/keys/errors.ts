/**
 * Every failure of the keys module is one of these classes. Callers tell them
 * apart with `instanceof`, never by message. Messages say what is wrong and what
 * to do, and never contain a passphrase or any key material.
 */

/** Base class of every error thrown by `lib/keys`. */
export class KeyError extends Error {
  override name = "KeyError";
}

/** The key is encrypted and the passphrase given does not decrypt it. */
export class WrongPassphraseError extends KeyError {
  override name = "WrongPassphraseError";
  /** Human-readable key format, e.g. `"OpenSSH"` or `"PKCS#8 PEM"`. */
  readonly format: string;

  constructor(format: string, options?: ErrorOptions) {
    super(
      `The passphrase does not decrypt this encrypted ${format} private key. ` +
        "Check the passphrase (and that the key file is complete and unmodified), then try again.",
      options,
    );
    this.format = format;
  }
}

/** The key is encrypted and no passphrase was given. */
export class MissingPassphraseError extends KeyError {
  override name = "MissingPassphraseError";
  /** Human-readable key format, e.g. `"OpenSSH"` or `"PKCS#8 PEM"`. */
  readonly format: string;

  constructor(format: string, options?: ErrorOptions) {
    super(
      `This ${format} private key is encrypted and no passphrase was given. ` +
        'Pass its passphrase, or remove the passphrase first with "ssh-keygen -p -f <keyfile>".',
      options,
    );
    this.format = format;
  }
}

/** The input is not a key at all, or is truncated or corrupt. */
export class UnparseableKeyError extends KeyError {
  override name = "UnparseableKeyError";
  /** What was wrong with the input (never quotes the input itself). */
  readonly reason: string;

  constructor(
    reason: string,
    options?: ErrorOptions & { expected?: "private key" | "public key" },
  ) {
    const hint =
      options?.expected === "public key"
        ? 'Pass a single public key line of the form "<type> <base64> [comment]", as found in a .pub file.'
        : "Pass the complete contents of an OpenSSH or PEM private key file (e.g. ~/.ssh/id_ed25519), " +
          "including its BEGIN and END lines.";
    super(`Cannot read the ${options?.expected ?? "private key"}: ${reason}. ${hint}`, options);
    this.reason = reason;
  }
}

/** A public key, authorized_keys or known_hosts line was given where a private key was expected. */
export class PublicKeyNotPrivateError extends KeyError {
  override name = "PublicKeyNotPrivateError";
  /** What was recognised, e.g. `"an OpenSSH public key line"`. */
  readonly found: string;

  constructor(found: string, options?: ErrorOptions) {
    super(
      `Expected a private key but got ${found}. ` +
        "Pass the private key file instead (e.g. ~/.ssh/id_ed25519, not ~/.ssh/id_ed25519.pub).",
      options,
    );
    this.found = found;
  }
}

/** A DSA (`ssh-dss`) key, in any format. */
export class DsaKeyRefusedError extends KeyError {
  override name = "DsaKeyRefusedError";

  constructor(options?: ErrorOptions) {
    super(
      "DSA (ssh-dss) keys are refused: OpenSSH has removed DSA support and servers reject them. " +
        'Generate a replacement with "ssh-keygen -t ed25519" (or generateKeyPair()) and deploy that instead.',
      options,
    );
  }
}

/** An RSA key shorter than {@link RsaKeyTooShortError.minimumBits}. */
export class RsaKeyTooShortError extends KeyError {
  override name = "RsaKeyTooShortError";
  /** Smallest RSA modulus accepted. */
  static readonly minimumBits = 2048;
  /** Size of the refused key's modulus. */
  readonly bits: number;

  constructor(bits: number, options?: ErrorOptions) {
    super(
      `This RSA key is ${bits} bits; at least ${RsaKeyTooShortError.minimumBits} bits are required. ` +
        'Generate a replacement with "ssh-keygen -t ed25519" (or "ssh-keygen -t rsa -b 3072").',
      options,
    );
    this.bits = bits;
  }
}

/** A key type, curve, cipher or file format this module does not handle. */
export class UnsupportedKeyTypeError extends KeyError {
  override name = "UnsupportedKeyTypeError";
  /** What was found, e.g. `"ed448"`, `"ssh-ed25519-cert-v01@openssh.com certificate"`. */
  readonly keyType: string;

  /** @param advice what the user should do instead; defaults to generating an ed25519 key. */
  constructor(keyType: string, advice?: string, options?: ErrorOptions) {
    super(
      `Unsupported key: ${keyType}. Supported are ed25519, RSA (2048 bits or more) and ECDSA ` +
        `(nistp256, nistp384, nistp521) keys. ${advice ?? 'Generate a supported key with "ssh-keygen -t ed25519".'}`,
      options,
    );
    this.keyType = keyType;
  }
}

/** Invalid options passed to {@link generateKeyPair} or {@link importPrivateKey}. */
export class InvalidKeyOptionsError extends KeyError {
  override name = "InvalidKeyOptionsError";
}
