import { describe, expect, it } from "vitest";
import { authorizedKeysPathSegments } from "../../../lib/replace/authorized-keys-path.ts";
import { AuthorizedKeysPathError } from "../../../lib/replace/errors.ts";

describe("issue 10.4: authorizedKeysPath is expanded as sshd expands AuthorizedKeysFile", () => {
  it.each([
    [".ssh/authorized_keys", ["H", "L/", "L.ssh/authorized_keys"]],
    ["%h/.ssh/authorized_keys", ["H", "L/.ssh/authorized_keys"]],
    ["~/.ssh/keys", ["H", "L/.ssh/keys"]],
    ["/etc/ssh/authorized_keys/%u", ["L/etc/ssh/authorized_keys/alice"]],
    ["/etc/ssh/keys/%U", ["L/etc/ssh/keys/", "U"]],
    ["/srv/100%%/%u", ["L/srv/100%/alice"]],
    ["keys/%u", ["H", "L/", "Lkeys/alice"]],
  ])("%s", (template, segments) => {
    expect(authorizedKeysPathSegments(template, "alice")).toEqual(segments);
  });

  it.each([
    ["%d/keys", "%d"],
    ["~bob/.ssh/authorized_keys", "~user"],
    ["/etc/ssh/%", "%"],
    ["none", "none"],
    [".ssh/authorized_keys .ssh/authorized_keys2", "whitespace"],
    ["/etc/ssh/../shadow", ".."],
    ["/etc/ssh/", "directory"],
    ["", "1 to 1024"],
  ])("refuses %j, naming what is wrong", (template, why) => {
    let error: unknown;
    try {
      authorizedKeysPathSegments(template, "alice");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthorizedKeysPathError);
    expect((error as Error).message).toContain(why);
    expect((error as Error).message).toContain("AuthorizedKeysFile");
  });
});
