import type { KeyStatus } from "../contract/vocabulary.ts";
import type { Page } from "../paging/page.ts";
import type { KeyPair, SshKeyAlgorithm } from "./types.ts";

export type { KeyStatus } from "../contract/vocabulary.ts";

/** A platform key generation as stored: public half and fingerprint; the private key is a secret. */
export interface KeyGenerationRecord {
  generation: number;
  algorithm: SshKeyAlgorithm;
  fingerprint: string;
  /** authorized_keys line of the public key. */
  publicKey: string;
  status: KeyStatus;
  createdAt: string;
  /** Reference to the private key in the secret store (ARN or file name), never the key. */
  secretRef: string;
}

/** Where private keys and short-lived operator secrets live. */
export interface SecretStore {
  /** Stores a secret; returns its reference. `ttlSeconds` marks short-lived operator secrets. */
  put(name: string, value: string, options?: { ttlSeconds?: number }): Promise<string>;
  get(ref: string): Promise<string>;
  delete(ref: string): Promise<void>;
}

export interface KeyStore {
  list(query?: { limit?: number; cursor?: string }): Promise<Page<KeyGenerationRecord>>;
  get(generation: number): Promise<KeyGenerationRecord | undefined>;
  current(): Promise<KeyGenerationRecord | undefined>;
  /**
   * Adds `key` as generation N+1 (conditional write, so two rotations cannot both become N+1),
   * storing its private key in the secret store; the former current becomes PREVIOUS.
   */
  add(key: KeyPair): Promise<KeyGenerationRecord>;
  retire(generation: number): Promise<void>;
  /**
   * Usable generations (CURRENT and PREVIOUS), newest first, with private keys loaded. With
   * `current`, the caller knows which generation is current (a rotation's), and a list this store
   * loaded a moment ago with that generation current may be answered again without reading the
   * table and the secrets.
   */
  loadGenerations(options?: {
    current?: number | undefined;
  }): Promise<Array<{ generation: number; key: KeyPair }>>;
}
