import { describe, expect, it } from "vitest";
import type { Cause } from "../../../lib/failures/causes.ts";
import { CAUSE_NAMES, CAUSES, hintFor } from "../../../lib/failures/causes.ts";
import { classify } from "../../../lib/replace/classify.ts";
import {
  ConcurrentModificationError,
  UnsafePathError,
  UserCreateFailedError,
  VerificationFailedError,
  WriteFailedError,
} from "../../../lib/replace/errors.ts";
import {
  AuthRejectedError,
  CommandTimeoutError,
  ConnectFailedError,
  ConnectionLostError,
  ConnectTimeoutError,
  DeadlineExceededError,
  HandshakeTimeoutError,
  HostKeyMismatchError,
  HostKeyNotPinnedError,
  type Stage,
} from "../../../lib/ssh/errors.ts";

const cases: Array<[string, unknown, Stage, Cause]> = [
  [
    "refused port",
    new ConnectFailedError("h", 22, "ECONNREFUSED"),
    "connect",
    "CONNECTION_REFUSED",
  ],
  ["no route", new ConnectFailedError("h", 22, "EHOSTUNREACH"), "connect", "NETWORK_UNREACHABLE"],
  ["net down", new ConnectFailedError("h", 22, "ENETUNREACH"), "connect", "NETWORK_UNREACHABLE"],
  ["kernel timeout", new ConnectFailedError("h", 22, "ETIMEDOUT"), "connect", "CONNECTION_TIMEOUT"],
  ["connect timer", new ConnectTimeoutError("h", 22, 5), "connect", "CONNECTION_TIMEOUT"],
  ["silent port", new HandshakeTimeoutError("h", 22, 5), "handshake", "TIMEOUT"],
  ["slow command", new CommandTimeoutError("read", 5), "read", "TIMEOUT"],
  ["deadline", new DeadlineExceededError("h"), "write", "TIMEOUT"],
  [
    "host key",
    new HostKeyMismatchError("h", "SHA256:a", "SHA256:b"),
    "handshake",
    "HOST_KEY_MISMATCH",
  ],
  ["unpinned", new HostKeyNotPinnedError("h"), "handshake", "HOST_KEY_NOT_PINNED"],
  ["no key accepted", new AuthRejectedError("h", "u", []), "auth", "AUTH_REJECTED"],
  ["new key refused", new AuthRejectedError("h", "u", []), "verify", "SSH_CONFIG_MODIFIED"],
  ["rolled back", new VerificationFailedError("h", true), "verify", "SSH_CONFIG_MODIFIED"],
  ["dropped before auth", new ConnectionLostError("h"), "handshake", "CONNECTION_REFUSED"],
  ["dropped mid-write", new ConnectionLostError("h"), "write", "CONNECTION_LOST"],
  ["symlink", new UnsafePathError("p", ""), "read", "WRITE_FAILED"],
  ["read-only", new WriteFailedError("p", ""), "write", "WRITE_FAILED"],
  ["raced", new ConcurrentModificationError("p", ""), "write", "CONCURRENT_MODIFICATION"],
  ["useradd", new UserCreateFailedError("u", ""), "user-create", "USER_CREATE_FAILED"],
  ["anything else", new TypeError("boom"), "write", "INTERNAL"],
  ["not even an error", "boom", "write", "INTERNAL"],
];

describe("classify", () => {
  it.each(cases)("%s → its cause", (_label, error, stage, cause) => {
    expect(classify(error, stage)).toBe(cause);
  });

  it("every cause has a summary and a one-line handling step", () => {
    for (const cause of CAUSE_NAMES) {
      expect(CAUSES[cause].hint.length).toBeGreaterThan(20);
      expect(CAUSES[cause].hint).not.toContain("\n");
    }
  });
});

describe("handling steps by operation", () => {
  it("tells an operator resolving by hand that their own password or key was refused", () => {
    expect(hintFor("AUTH_REJECTED", "RESOLVE")).toMatch(/password or custom key you gave/);
    expect(hintFor("AUTH_REJECTED", "DETECT")).toBe(hintFor("AUTH_REJECTED"));
    expect(hintFor("CONNECTION_REFUSED", "RESOLVE")).toBe(hintFor("CONNECTION_REFUSED"));
  });
});
