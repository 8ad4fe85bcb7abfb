/**
 * The POSIX sh functions keyheal runs on a device (docs/protocol.md). The library is constant
 * text, sent once per shell; each step is one call whose arguments are quoted by `shQuote`, and
 * file contents travel as `printf` escapes in the function `kh_input` (remote-shell.ts), piped to
 * the step only where it runs as another user. No user input is ever spliced into a function
 * body.
 *
 * Paths arrive as segments (see authorized-keys-path.ts): `H` the user's home, `U` the uid,
 * `L<text>` literal text. Functions `return` (never `exit`): the shell outlives each step.
 *
 * Privilege: when the shell is root and the file belongs to another user, the file work is done
 * as that user (`setpriv`, else `runuser`), so that root never follows a link that user planted
 * in a directory the user owns. A file in a root-owned directory (a central
 * `/etc/ssh/authorized_keys/%u`) is worked on as root, its owner and mode kept, never chowned.
 */

/**
 * POSIX single-quoting: the only form every sh (dash, busybox ash, ksh) reads the same way.
 * (Quoting libraries aimed at bash escape `!` inside double quotes, which dash keeps literally.)
 */
export function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Exit codes shared by the functions, decoded in remote.ts. */
export const EXIT = {
  OK: 0,
  SYMLINK: 10,
  NOT_REGULAR: 11,
  ABSENT: 12,
  CHANGED: 13,
  WRITE_FAILED: 14,
  RENAME_FAILED: 15,
  NO_HASH_TOOL: 16,
  TOO_LARGE: 17,
  NO_HOME: 21,
  NO_DROP: 23,
  USER_CREATE_FAILED: 30,
  NO_USERADD: 31,
} as const;

const LIBRARY = `
kh_where() {
  kh_o=$1; shift
  if [ -n "$kh_o" ]; then
    kh_e=$(getent passwd "$kh_o" 2>/dev/null) || kh_e=$(awk -F: -v u="$kh_o" '$1 == u' /etc/passwd)
    h=$(printf '%s\\n' "$kh_e" | cut -d: -f6); kh_uid=$(printf '%s\\n' "$kh_e" | cut -d: -f3)
  else
    h=$HOME; kh_uid=$KH_UID
  fi
  f=
  for kh_s in "$@"; do
    case $kh_s in
      H) [ -n "$h" ] || { echo "no home directory for \${kh_o:-the login user}" >&2; return ${EXIT.NO_HOME}; }
         f=$f$h ;;
      U) f=$f$kh_uid ;;
      L*) f=$f\${kh_s#L} ;;
    esac
  done
  case $f in
    */*) d=\${f%/*}; [ -n "$d" ] || d=/ ;;
    *) d=. ;;
  esac
}
kh_safe() {
  if [ -L "$d" ]; then echo "$d is a symlink" >&2; return ${EXIT.SYMLINK}; fi
  if [ -L "$f" ]; then echo "$f is a symlink" >&2; return ${EXIT.SYMLINK}; fi
  if [ -e "$f" ] && [ ! -f "$f" ]; then echo "$f is not a regular file" >&2; return ${EXIT.NOT_REGULAR}; fi
}
kh_rootdir() {
  kh_p=$d
  while [ ! -e "$kh_p" ]; do kh_p=$(dirname -- "$kh_p"); done
  [ "$(ls -ldn -- "$kh_p" | awk '{ print $3 }')" = 0 ]
}
kh_as() {
  kh_u=$1; shift
  kh_g=$(id -g "$kh_u" 2>/dev/null) || { echo "no user $kh_u" >&2; return ${EXIT.NO_DROP}; }
  if command -v kh_input >/dev/null 2>&1; then kh_input | kh_as_run "$@"; else kh_as_run "$@"; fi
}
kh_as_run() {
  if command -v setpriv >/dev/null 2>&1; then
    setpriv --reuid="$kh_u" --regid="$kh_g" --init-groups -- sh -c 'KH_UID=$(id -u); eval "$KH_LIB"; "$@"' kh "$@"
  elif command -v runuser >/dev/null 2>&1; then
    runuser -u "$kh_u" -- sh -c 'KH_UID=$(id -u); eval "$KH_LIB"; "$@"' kh "$@"
  else
    echo "neither setpriv nor runuser is installed to act as $kh_u" >&2; return ${EXIT.NO_DROP}
  fi
}
kh_digest() {
  if command -v sha256sum >/dev/null 2>&1; then kh_h=$(sha256sum < "$1") && kh_h=\${kh_h%% *}
  elif command -v shasum >/dev/null 2>&1; then kh_h=$(shasum -a 256 < "$1") && kh_h=\${kh_h%% *}
  elif command -v openssl >/dev/null 2>&1; then kh_h=$(openssl dgst -sha256 < "$1") && kh_h=\${kh_h##* }
  else return 1
  fi
}
kh_read() {
  kh_o=$1 kh_max=$2; shift 2
  kh_where "$kh_o" "$@" || return
  if [ -n "$kh_o" ] && [ "$KH_UID" = 0 ] && [ "$kh_o" != root ] && ! kh_rootdir; then
    kh_as "$kh_o" kh_read "" "$kh_max" "L$f"; return
  fi
  kh_safe || return
  [ -e "$f" ] || return ${EXIT.ABSENT}
  kh_n=$(ls -ldn -- "$f") || return ${EXIT.WRITE_FAILED}
  set -f; set -- $kh_n; set +f
  if [ $(($5)) -gt "$kh_max" ]; then echo "$f has $5 bytes" >&2; return ${EXIT.TOO_LARGE}; fi
  printf '%s\\n' "$1"
  cat -- "$f" || return ${EXIT.WRITE_FAILED}
}
kh_write() {
  kh_o=$1 kh_want=$2 kh_mask=$3 kh_keep=$4; shift 4
  kh_where "$kh_o" "$@" || return
  kh_central=
  if [ -n "$kh_o" ] && [ "$KH_UID" = 0 ] && [ "$kh_o" != root ]; then
    if kh_rootdir; then kh_central=1; else kh_as "$kh_o" kh_write "" "$kh_want" "$kh_mask" "$kh_keep" "L$f"; return; fi
  fi
  kh_safe || return
  umask 077
  if [ ! -d "$d" ]; then
    mkdir -p -- "$d" && chmod 700 "$d" || return ${EXIT.WRITE_FAILED}
  fi
  for kh_s in "$d"/.keyheal-tmp.*; do
    if [ -f "$kh_s" ] && [ ! -L "$kh_s" ]; then rm -f -- "$kh_s"; fi
  done
  t="$d/.keyheal-tmp.$$"
  [ -n "$kh_central" ] || umask "$kh_mask"
  { set -C; command : > "$t"; } 2>/dev/null; kh_s=$?; set +C; umask 077
  [ "$kh_s" = 0 ] || return ${EXIT.WRITE_FAILED}
  kh_fail() { rm -f -- "$t"; return "\${1:-${EXIT.WRITE_FAILED}}"; }
  if [ -n "$kh_central" ] && [ -f "$f" ]; then
    cp -p -- "$f" "$t" 2>/dev/null || cp -- "$f" "$t" || { kh_fail; return; }
  elif [ -n "$kh_central" ]; then
    chmod 644 "$t" || { kh_fail; return; }
  fi
  if command -v kh_input >/dev/null 2>&1; then kh_input > "$t"; else cat > "$t"; fi || { kh_fail; return; }
  sync -- "$t" 2>/dev/null || sync
  if [ -e "$f" ]; then
    kh_digest "$f" || { echo "no sha256sum, shasum or openssl" >&2; kh_fail ${EXIT.NO_HASH_TOOL}; return; }
  else
    kh_h=absent
  fi
  if [ "$kh_h" != "$kh_want" ]; then echo "changed since it was read" >&2; kh_fail ${EXIT.CHANGED}; return; fi
  if [ -e "$f" ] && [ "$kh_keep" = 1 ]; then
    kh_b="$d/.keyheal-backup.\${f##*/}"
    ln -f -- "$f" "$kh_b" 2>/dev/null || {
      rm -f -- "$kh_b"
      cp -p -- "$f" "$kh_b" 2>/dev/null || cp -- "$f" "$kh_b"
    } || { kh_fail; return; }
  fi
  if [ -e "$f" ] && command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled; then
    chcon --reference="$f" -- "$t" 2>/dev/null || true
  fi
  mv -f -- "$t" "$f" || { kh_fail ${EXIT.RENAME_FAILED}; return; }
  if command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled && command -v restorecon >/dev/null 2>&1; then
    restorecon -- "$f" 2>/dev/null || true
  fi
  sync -- "$d" 2>/dev/null || sync
}
kh_ensure_user() {
  kh_u=$1
  if id -u "$kh_u" >/dev/null 2>&1; then echo exists; return 0; fi
  if command -v useradd >/dev/null 2>&1; then
    useradd -m -s /bin/sh "$kh_u" || return ${EXIT.USER_CREATE_FAILED}
  elif command -v adduser >/dev/null 2>&1; then
    adduser -D -s /bin/sh "$kh_u" || return ${EXIT.USER_CREATE_FAILED}
  else
    echo "neither useradd nor adduser is installed" >&2; return ${EXIT.NO_USERADD}
  fi
  # A new account is locked until it has a password; "*" unlocks key login without any password.
  usermod -p '*' "$kh_u" 2>/dev/null || true
  echo created
}
`;

/**
 * The library, as one line the shell runs: kept in KH_LIB for steps done as another user, with
 * the shell's uid (from its ready marker) in KH_UID, so no step runs `id` again.
 */
export function shellLibrary(uid: number): string {
  const known = Number.isSafeInteger(uid) && uid >= 0 ? uid : -1;
  return `KH_UID=${known}; KH_LIB=${shQuote(LIBRARY)}; export KH_LIB; eval "$KH_LIB"`;
}

export type StepName = "kh_read" | "kh_write" | "kh_ensure_user";

/** One call of a library function, every argument quoted. */
export function stepCommand(name: StepName, args: string[]): string {
  return [name, ...args.map(shQuote)].join(" ");
}
