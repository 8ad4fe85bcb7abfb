import { looksArmored, normaliseKeyText, parseArmor } from "./armor.ts";
import {
  DsaKeyRefusedError,
  PublicKeyNotPrivateError,
  UnparseableKeyError,
  UnsupportedKeyTypeError,
} from "./errors.ts";
import { importOpenSshKey } from "./import-openssh.ts";
import { importPemKey, PEM_PRIVATE_KEY_FORMATS } from "./import-pem.ts";
import { OPENSSH_LABEL } from "./openssh-format.ts";
import { refusalForNonPrivateKey } from "./recognise.ts";
import type { ImportPrivateKeyOptions, KeyPair } from "./types.ts";

/**
 * Imports a private key and normalises it to an unencrypted OpenSSH-format
 * {@link KeyPair}.
 *
 * Accepts OpenSSH format (unencrypted, or bcrypt with AES), PKCS#1
 * (`BEGIN RSA PRIVATE KEY`, including legacy `Proc-Type: 4,ENCRYPTED`), SEC1
 * (`BEGIN EC PRIVATE KEY`) and PKCS#8 (`BEGIN PRIVATE KEY`,
 * `BEGIN ENCRYPTED PRIVATE KEY`). CRLF line ends and surrounding whitespace
 * are tolerated. A passphrase given for an unencrypted key is ignored; an
 * empty passphrase counts as none.
 *
 * @throws {MissingPassphraseError} the key is encrypted and no passphrase was given.
 * @throws {WrongPassphraseError} the passphrase does not decrypt the key.
 * @throws {UnparseableKeyError} not a key, or truncated or corrupt.
 * @throws {PublicKeyNotPrivateError} a public key, authorized_keys or known_hosts line.
 * @throws {DsaKeyRefusedError} a DSA key in any format.
 * @throws {RsaKeyTooShortError} an RSA key under 2048 bits.
 * @throws {UnsupportedKeyTypeError} e.g. ed448, X25519, secp256k1, certificates, PuTTY PPK.
 * @throws {InvalidKeyOptionsError} `comment` contains a line break.
 */
export function importPrivateKey(
  text: string | Buffer,
  opts: ImportPrivateKeyOptions = {},
): KeyPair {
  const passphrase = opts.passphrase === "" ? undefined : opts.passphrase;
  const normalised = normaliseKeyText(text);
  if (normalised === "") throw new UnparseableKeyError("the input is empty");

  if (!looksArmored(normalised)) {
    throw (
      refusalForNonPrivateKey(normalised) ??
      new UnparseableKeyError("it is not in any recognised private key format")
    );
  }
  const armor = parseArmor(normalised);
  if (armor.label === OPENSSH_LABEL) return importOpenSshKey(armor, passphrase, opts.comment);
  if (PEM_PRIVATE_KEY_FORMATS.has(armor.label))
    return importPemKey(armor, passphrase, opts.comment);
  switch (armor.label) {
    case "DSA PRIVATE KEY":
      throw new DsaKeyRefusedError();
    case "PUBLIC KEY":
    case "RSA PUBLIC KEY":
      throw new PublicKeyNotPrivateError("a PEM public key");
    case "CERTIFICATE":
      throw new PublicKeyNotPrivateError("an X.509 certificate");
    default:
      throw new UnsupportedKeyTypeError(`PEM block labelled "${armor.label}"`);
  }
}
