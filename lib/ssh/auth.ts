/**
 * Authentication: the credentials given, offered one at a time in their order, never ssh2's
 * own order. A private key is offered parsed once per process (lib/keys/parsed-key-cache.ts).
 *
 * @module
 */
import type { AuthenticationType, AuthHandlerMiddleware, NextAuthHandler } from "ssh2";
import { parsedKeys } from "../keys/parsed-key-cache.ts";
import type { Credential } from "./types.ts";

/** The credentials of one connection attempt, and which of them was offered last. */
export class CredentialOffer {
  readonly #credentials: Credential[];
  readonly #username: string;
  readonly #fail: (error: Error) => void;
  #attempt = -1;
  /** Labels of the credentials offered so far, in order. */
  readonly tried: string[] = [];

  /** `fail` ends the connection attempt when a credential cannot be offered at all. */
  constructor(credentials: Credential[], username: string, fail: (error: Error) => void) {
    this.#credentials = credentials;
    this.#username = username;
    this.#fail = fail;
  }

  /** Index of the credential offered last: the accepted one once the connection is ready. */
  get attempt(): number {
    return this.#attempt;
  }

  get current(): Credential | undefined {
    return this.#credentials[this.#attempt];
  }

  /** ssh2's `authHandler`: the next credential, or none left. */
  readonly handler: AuthHandlerMiddleware = (
    methodsLeft,
    _partialSuccess,
    next: NextAuthHandler,
  ) => {
    this.#attempt += 1;
    const credential = this.#credentials[this.#attempt];
    const username = this.#username;
    if (!credential) return next(false as unknown as AuthenticationType);
    this.tried.push(credential.label);
    if (credential.kind === "publickey") {
      // Parsed once per key, not at every connection (lib/keys/parsed-key-cache.ts).
      let key: unknown;
      try {
        key = parsedKeys.get(credential.fingerprint, credential.privateKey);
      } catch (error) {
        this.#fail(error as Error);
        return next(false as unknown as AuthenticationType);
      }
      return next({ type: "publickey", username, key } as unknown as AuthenticationType);
    }
    // Servers running PAM often take passwords through keyboard-interactive only.
    if (
      methodsLeft &&
      !methodsLeft.includes("password") &&
      methodsLeft.includes("keyboard-interactive")
    ) {
      return next({
        type: "keyboard-interactive",
        username,
        prompt: (_name, _instructions, _lang, prompts, finish) =>
          finish(prompts.map((p) => (p.echo ? "" : credential.password))),
      });
    }
    return next({ type: "password", username, password: credential.password });
  };
}
