/**
 * The POSIX sh steps keyheal runs on a device. Each script body is a constant; everything that
 * varies (paths, the owner, hashes) is passed as positional parameters quoted by `shQuote`, and
 * file contents travel on stdin. No user input is ever spliced into a script body.
 */

/**
 * POSIX single-quoting: the only form every sh (dash, busybox ash, ksh) reads the same way.
 * (Quoting libraries aimed at bash escape `!` inside double quotes, which dash keeps literally.)
 */
export function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Exit codes shared by the scripts, decoded in remote.ts. */
export const EXIT = {
  OK: 0,
  SYMLINK: 10,
  NOT_REGULAR: 11,
  ABSENT: 12,
  CHANGED: 13,
  WRITE_FAILED: 14,
  RENAME_FAILED: 15,
  NO_HASH_TOOL: 16,
  NO_HOME: 21,
  BAD_TEMP: 22,
  USER_CREATE_FAILED: 30,
  NO_USERADD: 31,
} as const;

/** Resolves $f (the authorized_keys path) and refuses symlinks and non-regular files. */
const PRELUDE = `
f=$1 owner=$2
case $f in
  /*) ;;
  *)
    if [ -n "$owner" ]; then
      h=$(getent passwd "$owner" 2>/dev/null | cut -d: -f6)
      [ -n "$h" ] || h=$(awk -F: -v u="$owner" '$1 == u { print $6 }' /etc/passwd)
      [ -n "$h" ] || { echo "no home directory for $owner" >&2; exit ${EXIT.NO_HOME}; }
    else
      h=$HOME
    fi
    f="$h/$f" ;;
esac
d=$(dirname -- "$f")
if [ -L "$d" ]; then echo "$d is a symlink" >&2; exit ${EXIT.SYMLINK}; fi
if [ -L "$f" ]; then echo "$f is a symlink" >&2; exit ${EXIT.SYMLINK}; fi
if [ -e "$f" ] && [ ! -f "$f" ]; then echo "$f is not a regular file" >&2; exit ${EXIT.NOT_REGULAR}; fi
`;

const READ = `${PRELUDE}
[ -e "$f" ] || exit ${EXIT.ABSENT}
cat -- "$f" || exit ${EXIT.WRITE_FAILED}
`;

/** Writes stdin to a fresh temp file beside the target (0600, owned by the user, fsynced). */
const STAGE = `${PRELUDE}
umask 077
if [ ! -d "$d" ]; then
  mkdir -p -- "$d" || exit ${EXIT.WRITE_FAILED}
  chmod 700 "$d" || exit ${EXIT.WRITE_FAILED}
  if [ -n "$owner" ]; then chown "$owner": "$d" || exit ${EXIT.WRITE_FAILED}; fi
fi
# Temp files left by an interrupted run; the device lease means no other run owns them.
for s in "$d"/.keyheal-tmp.*; do
  if [ -f "$s" ] && [ ! -L "$s" ]; then rm -f -- "$s"; fi
done
t=$(mktemp "$d/.keyheal-tmp.XXXXXXXX" 2>/dev/null) || {
  t="$d/.keyheal-tmp.$$"
  (set -C; : > "$t") || exit ${EXIT.WRITE_FAILED}
}
fail() { rm -f -- "$t"; exit ${EXIT.WRITE_FAILED}; }
cat > "$t" || fail
chmod 600 "$t" || fail
if [ -n "$owner" ]; then chown "$owner": "$t" || fail; fi
sync -- "$t" 2>/dev/null || sync
printf '%s\\n' "$t"
`;

/** Renames the staged file over the target only if the target still has the hash read. */
const COMMIT = `${PRELUDE}
t=$3 want=$4
case $t in
  "$d"/.keyheal-tmp.*) ;;
  *) echo "unexpected temp path" >&2; exit ${EXIT.BAD_TEMP} ;;
esac
if [ ! -f "$t" ] || [ -L "$t" ]; then echo "staged file is gone" >&2; exit ${EXIT.WRITE_FAILED}; fi
digest() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum < "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 < "$1" | cut -d' ' -f1
  elif command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 < "$1" | sed 's/^.*= *//'
  else return 1
  fi
}
if [ -e "$f" ]; then
  have=$(digest "$f") || { rm -f -- "$t"; echo "no sha256sum, shasum or openssl" >&2; exit ${EXIT.NO_HASH_TOOL}; }
else
  have=absent
fi
if [ "$have" != "$want" ]; then rm -f -- "$t"; echo "changed since it was read" >&2; exit ${EXIT.CHANGED}; fi
if [ -e "$f" ]; then
  b="$d/.keyheal-backup.$(basename -- "$f")"
  rm -f -- "$b"
  cp -p -- "$f" "$b" 2>/dev/null || cp -- "$f" "$b" || { rm -f -- "$t"; exit ${EXIT.WRITE_FAILED}; }
  if command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled; then
    chcon --reference="$f" -- "$t" 2>/dev/null || true
  fi
fi
mv -f -- "$t" "$f" || { rm -f -- "$t"; exit ${EXIT.RENAME_FAILED}; }
if command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled && command -v restorecon >/dev/null 2>&1; then
  restorecon -- "$f" 2>/dev/null || true
fi
sync -- "$d" 2>/dev/null || sync
`;

/** Creates the user when missing; runs as root. Prints "created" or "exists". */
const ENSURE_USER = `
u=$1
if id -u "$u" >/dev/null 2>&1; then echo exists; exit 0; fi
if command -v useradd >/dev/null 2>&1; then
  useradd -m -s /bin/sh "$u" || exit ${EXIT.USER_CREATE_FAILED}
elif command -v adduser >/dev/null 2>&1; then
  adduser -D -s /bin/sh "$u" || exit ${EXIT.USER_CREATE_FAILED}
else
  echo "neither useradd nor adduser is installed" >&2; exit ${EXIT.NO_USERADD}
fi
# A new account is locked until it has a password; "*" unlocks key login without any password.
usermod -p '*' "$u" 2>/dev/null || true
echo created
`;

export const SCRIPTS = { READ, STAGE, COMMIT, ENSURE_USER } as const;
export type ScriptName = keyof typeof SCRIPTS;

/** How a script is run: as the logged-in user, directly as root, or through sudo. */
export type Privilege = "self" | "root" | "sudo";

/**
 * The command line for one script. With sudo, the password is the first line of stdin
 * (`sudo -S`), so it never appears in argv, a process list or a log.
 */
export function scriptCommand(name: ScriptName, args: string[], privilege: Privilege): string {
  const argv = [`keyheal-${name.toLowerCase()}`, ...args].map(shQuote).join(" ");
  const sh = `sh -c ${shQuote(SCRIPTS[name])} ${argv}`;
  return privilege === "sudo" ? `sudo -S -p '' ${sh}` : sh;
}
