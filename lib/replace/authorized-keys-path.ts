import { AuthorizedKeysPathError } from "./errors.ts";

/** Where sshd looks when sshd_config says nothing: relative to the user's home. */
export const DEFAULT_AUTHORIZED_KEYS_PATH = ".ssh/authorized_keys";

/**
 * The authorized_keys path of a device, in the form the remote steps take: a list of segments,
 * each `H` (the user's home), `U` (the user's numeric id) or `L<text>` (literal text), joined on
 * the device. Only the device knows the home and uid; everything else is decided here.
 *
 * The template follows sshd_config's AuthorizedKeysFile (sshd_config(5), TOKENS): `%h` the home,
 * `%u` the user name, `%U` the uid, `%%` a literal `%`; a path that is not absolute after
 * expansion is relative to the home. A leading `~/` (or `~` alone) means the home, as users write
 * it. Anything sshd would read differently is refused: other `%` tokens, `~user`, whitespace,
 * control characters, `..` segments, and `none`.
 */
export function authorizedKeysPathSegments(template: string, username: string): string[] {
  const refuse = (why: string): never => {
    throw new AuthorizedKeysPathError(template, why);
  };
  if (template.length === 0 || template.length > 1024) refuse("it must be 1 to 1024 characters");
  if (template === "none") refuse('"none" turns keys off; keyheal needs a file');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (/[\s\u0000-\u001f\u007f]/.test(template))
    refuse("it contains whitespace or a control character");
  let rest = template;
  const segments: string[] = [];
  if (rest === "~" || rest.startsWith("~/")) {
    segments.push("H");
    rest = rest.slice(1);
  } else if (rest.startsWith("~")) {
    refuse("~user is not expanded by sshd; use %h or an absolute path");
  }
  let literal = "";
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (c !== "%") {
      literal += c;
      continue;
    }
    const token = rest[i + 1];
    i += 1;
    if (token === "%") literal += "%";
    else if (token === "u") literal += username;
    else if (token === "h" || token === "U") {
      if (literal) segments.push(`L${literal}`);
      literal = "";
      segments.push(token === "h" ? "H" : "U");
    } else refuse(`%${token ?? ""} is not one of the tokens sshd expands (%h, %u, %U, %%)`);
  }
  if (literal) segments.push(`L${literal}`);
  const first = segments[0];
  // Relative after expansion: sshd reads it from the home.
  if (first !== "H" && !(first?.startsWith("L/") ?? false)) segments.unshift("H", "L/");
  const shape = segments.map((s) => (s.startsWith("L") ? s.slice(1) : "x")).join("");
  if (shape.split("/").some((part) => part === "..")) refuse('".." segments are not allowed');
  if (shape.endsWith("/")) refuse("it names a directory, not a file");
  return segments;
}
