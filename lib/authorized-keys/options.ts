/**
 * The authorized_keys options grammar, following OpenSSH's `sshkey_advance_past_options`
 * (sshkey.c) and `sshauthopt_parse` with its helpers `opt_flag`, `opt_match` and
 * `opt_dequote` (auth-options.c, misc.c).
 *
 * Where in doubt this parser refuses: a refused line is left alone, or reported when it
 * holds a key to remove, so refusing too much cannot lock anyone out. It refuses service
 * names in `permitopen` (OpenSSH may resolve them). It does not judge what only sshd can
 * judge at login time: whether a `from` pattern matches or an `expiry-time` has passed.
 */

/** One option of an authorized_keys line. */
export interface KeyOption {
  /** Lower-cased name as OpenSSH understands it, negation included: "no-pty", "command". */
  name: string;
  /** Unquoted value (`\"` turned into `"`) for `name="value"` options. */
  value?: string;
}

export type OptionsResult =
  | { ok: true; options: KeyOption[]; certAuthority: boolean }
  | { ok: false; error: string };

// Order matters: OpenSSH tries these by case-insensitive prefix, in this order.
const FLAGS: readonly (readonly [name: string, negatable: boolean])[] = [
  ["restrict", false],
  ["cert-authority", false],
  ["port-forwarding", true],
  ["agent-forwarding", true],
  ["x11-forwarding", true],
  ["touch-required", true],
  ["verify-required", true],
  ["pty", true],
  ["user-rc", true],
];

const VALUED = [
  "command",
  "principals",
  "from",
  "expiry-time",
  "environment",
  "permitopen",
  "permitlisten",
  "tunnel",
] as const;

type Valued = (typeof VALUED)[number];

// OpenSSH's SSH_AUTHOPT_ENV_MAX, SSH_AUTHOPT_PERMIT_MAX and SSH_TUNID_MAX.
const ENV_MAX = 1024;
const PERMIT_MAX = 4096;
const TUNID_MAX = 0x7fffffff - 2;
// NI_MAXHOST: OpenSSH refuses permit host names at least this long.
const NI_MAXHOST = 1025;

const isSpaceOrTab = (c: string | undefined): boolean => c === " " || c === "\t";

function startsWithIgnoreCase(s: string, at: number, prefix: string): boolean {
  return s.slice(at, at + prefix.length).toLowerCase() === prefix;
}

/**
 * Where the options field that starts at `line[0]` ends (the first unquoted space or tab),
 * or where the double quote that is never closed opens. Like OpenSSH, `\"` never opens or
 * closes a quote.
 */
export function advancePastOptions(
  line: string,
): { ok: true; end: number } | { ok: false; openQuote: number } {
  let openQuote = -1;
  let i = 0;
  for (; i < line.length && (openQuote !== -1 || !isSpaceOrTab(line[i])); i++) {
    if (line[i] === "\\" && line[i + 1] === '"') i++;
    else if (line[i] === '"') openQuote = openQuote === -1 ? i : -1;
  }
  return openQuote === -1 ? { ok: true, end: i } : { ok: false, openQuote };
}

/** True when `token` reads as options (a `name=` or quote, a comma, or a known flag). */
export function looksLikeOptions(token: string): boolean {
  if (/[=",]/.test(token)) return true;
  const lower = token.toLowerCase();
  return FLAGS.some(([name, negatable]) => lower === name || (negatable && lower === `no-${name}`));
}

function matchFlag(s: string, at: number): { name: string; next: number } | undefined {
  for (const [name, negatable] of FLAGS) {
    let p = at;
    let negated = false;
    if (negatable && startsWithIgnoreCase(s, p, "no-")) {
      p += 3;
      negated = true;
    }
    if (startsWithIgnoreCase(s, p, name)) {
      return { name: negated ? `no-${name}` : name, next: p + name.length };
    }
  }
  return undefined;
}

function matchValued(s: string, at: number): { name: Valued; next: number } | undefined {
  for (const name of VALUED) {
    if (startsWithIgnoreCase(s, at, name) && s[at + name.length] === "=") {
      return { name, next: at + name.length + 1 };
    }
  }
  return undefined;
}

function dequote(
  s: string,
  at: number,
): { ok: true; value: string; next: number } | { ok: false; error: string } {
  if (s[at] !== '"') return { ok: false, error: "missing start quote" };
  let value = "";
  let p = at + 1;
  while (p < s.length && s[p] !== '"') {
    if (s[p] === "\\" && s[p + 1] === '"') p++;
    value += s[p];
    p++;
  }
  if (p >= s.length) return { ok: false, error: "missing end quote" };
  return { ok: true, value, next: p + 1 };
}

// OpenSSH's parse_absolute_time: YYYYMMDD[HHMM[SS]] with an optional Z or UTC suffix.
function validExpiryTime(value: string): boolean {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(?:z|utc)?$/i.exec(value);
  if (m === null) return false;
  const [, , month, day, hour, minute, second] = m.map((part) =>
    part === undefined ? 0 : Number(part),
  );
  return (
    month !== undefined &&
    month >= 1 &&
    month <= 12 &&
    day !== undefined &&
    day >= 1 &&
    day <= 31 &&
    (hour ?? 0) <= 23 &&
    (minute ?? 0) <= 59 &&
    (second ?? 0) <= 60
  );
}

function validEnvironment(value: string): boolean {
  const eq = value.indexOf("=");
  return eq > 0 && /^[A-Za-z0-9_]+$/.test(value.slice(0, eq));
}

// OpenSSH's hpdelim2 + a2port. Service names ("ssh") are refused here although OpenSSH
// may resolve them: that is the stricter side.
function validPermit(value: string, allowBarePort: boolean): boolean {
  const spec = allowBarePort && !value.includes(":") ? `*:${value}` : value;
  let hostEnd: number;
  if (spec.startsWith("[")) {
    const close = spec.indexOf("]");
    if (close === -1) return false;
    hostEnd = close + 1;
  } else {
    const delim = spec.search(/[:/]/);
    hostEnd = delim === -1 ? spec.length : delim;
  }
  const sep = spec[hostEnd];
  if (sep !== ":" && sep !== "/") return false;
  if (hostEnd >= NI_MAXHOST) return false;
  const port = spec.slice(hostEnd + 1);
  if (port === "*") return true;
  return /^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535;
}

function validTunnel(value: string): boolean {
  if (value.toLowerCase() === "any") return true;
  return /^\d{1,10}$/.test(value) && Number(value) <= TUNID_MAX;
}

/**
 * Parses the options at the start of `line` the way `sshauthopt_parse` does: stop at the
 * first space or tab outside a quoted value; fail on anything OpenSSH would refuse.
 */
export function parseOptions(line: string): OptionsResult {
  const options: KeyOption[] = [];
  const seen = new Set<string>();
  let certAuthority = false;
  let env = 0;
  let permitopen = 0;
  let permitlisten = 0;
  let p = 0;
  const fail = (error: string): OptionsResult => ({ ok: false, error });

  while (p < line.length && !isSpaceOrTab(line[p])) {
    const flag = matchFlag(line, p);
    if (flag !== undefined) {
      options.push({ name: flag.name });
      if (flag.name === "cert-authority") certAuthority = true;
      p = flag.next;
    } else {
      const valued = matchValued(line, p);
      if (valued !== undefined) {
        const { name } = valued;
        if ((name === "command" || name === "principals" || name === "from") && seen.has(name)) {
          return fail(`multiple "${name}" clauses`);
        }
        if (name === "environment" && env > ENV_MAX) return fail("too many environment strings");
        if (name === "permitopen" && permitopen > PERMIT_MAX) {
          return fail("too many permission directives");
        }
        if (name === "permitlisten" && permitlisten > PERMIT_MAX) {
          return fail("too many permission directives");
        }
        const dq = dequote(line, valued.next);
        if (!dq.ok) return fail(`${name}: ${dq.error}`);
        const { value } = dq;
        if (name === "expiry-time" && !validExpiryTime(value)) return fail("invalid expires time");
        if (name === "environment" && !validEnvironment(value)) {
          return fail("invalid environment string");
        }
        if (name === "permitopen" && !validPermit(value, false)) {
          return fail("invalid permitopen value");
        }
        if (name === "permitlisten" && !validPermit(value, true)) {
          return fail("invalid permitlisten value");
        }
        if (name === "tunnel" && !validTunnel(value)) return fail("invalid tun device");
        if (name === "environment") env++;
        if (name === "permitopen") permitopen++;
        if (name === "permitlisten") permitlisten++;
        seen.add(name);
        options.push({ name, value });
        p = dq.next;
      }
      // Nothing matched: like OpenSSH, fall through; only a comma may follow.
    }
    if (p >= line.length || isSpaceOrTab(line[p])) break;
    if (line[p] !== ",") {
      const near = line.slice(p).split(/[ \t,]/, 1)[0] ?? "";
      return fail(`unknown key option near ${JSON.stringify(near.slice(0, 40))}`);
    }
    p++;
    if (p >= line.length) return fail("unexpected end of options");
  }
  // Not a syntax rule but auth_authorise_keyopts': sshd refuses such a line outright, so
  // it must not pass for an authorized key.
  if (seen.has("principals") && !certAuthority) {
    return fail("principals without cert-authority, which sshd refuses");
  }
  return { ok: true, options, certAuthority };
}
