#!/usr/bin/env bash
# Starts AWS DynamoDB Local (Amazon's own engine, in memory) on 127.0.0.1 in the background and
# prints its endpoint, so the store suite can run against it as well as against dynalite:
#
#   endpoint=$(bash test/harness/dynamodb-local.sh start)
#   KEYHEAL_DYNAMODB_ENDPOINT=$endpoint npx vitest run --project integration test/integration/store
#   bash test/harness/dynamodb-local.sh stop
#
# or, all in one (what `npm run test:store:dynamodb-local` does; the server is stopped however the
# command ends, unless it was already running before):
#
#   bash test/harness/dynamodb-local.sh run -- vitest run --project integration test/integration/store
#
# The jar comes from the npm package amplify-dynamodb-simulator (it bundles DynamoDB Local), fetched
# once with `npm pack` into a cache directory. Needs Java 11 or later: on Debian or Ubuntu,
# `apt-get install default-jre-headless` (.ci/run installs it when `java` is missing).
#
# Unlike dynalite, DynamoDB Local runs TTL: a background job deletes items whose TTL attribute lies
# in the past (by the real clock, less than 5 years ago, as on AWS), at moments of its choosing. A
# test that stores records with a fixed clock must pick one whose expiries are in the real future
# (or more than 5 years past), or its items may vanish mid-test.
#
# Environment: KEYHEAL_DYNAMODB_LOCAL_PORT (default 8000), KEYHEAL_CACHE_DIR (default
# /var/cache/keyheal when writable, else ./.cache/keyheal).
set -euo pipefail

readonly PACKAGE="amplify-dynamodb-simulator@2.9.30"
readonly port="${KEYHEAL_DYNAMODB_LOCAL_PORT:-8000}"

if [[ ! "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
  echo "KEYHEAL_DYNAMODB_LOCAL_PORT must be a port number, got: $port" >&2
  exit 2
fi

cache_dir() {
  if [[ -n "${KEYHEAL_CACHE_DIR:-}" ]]; then
    printf '%s\n' "$KEYHEAL_CACHE_DIR"
  elif mkdir -p /var/cache/keyheal 2>/dev/null && [[ -w /var/cache/keyheal ]]; then
    printf '%s\n' /var/cache/keyheal
  else
    printf '%s\n' "$PWD/.cache/keyheal"
  fi
}

readonly cache="$(cache_dir)"
readonly pidfile="$cache/dynamodb-local-$port.pid"
readonly logfile="$cache/dynamodb-local-$port.log"

# Prints the directory holding DynamoDBLocal.jar, fetching the package when it is not cached yet.
fetch_jar_dir() {
  local unpacked="$cache/${PACKAGE//[@\/]/-}"
  if [[ ! -d "$unpacked/package" ]]; then
    mkdir -p "$cache"
    local tmp
    tmp="$(mktemp -d "$cache/fetch.XXXXXX")"
    # npm's output is progress noise; only the tarball name on the last line matters.
    (cd "$tmp" && npm pack --silent "$PACKAGE" >/dev/null)
    local tgz
    tgz="$(find "$tmp" -maxdepth 1 -name '*.tgz' -print -quit)"
    if [[ -z "$tgz" ]]; then
      echo "npm pack $PACKAGE produced no tarball" >&2
      exit 1
    fi
    tar -xzf "$tgz" -C "$tmp"
    rm -f -- "$tgz"
    rm -rf -- "$unpacked"
    mv -- "$tmp" "$unpacked"
  fi
  local jar
  jar="$(find "$unpacked/package" -name DynamoDBLocal.jar -print -quit)"
  if [[ -z "$jar" ]]; then
    echo "DynamoDBLocal.jar not found in $unpacked; delete that directory and retry" >&2
    exit 1
  fi
  dirname -- "$jar"
}

answers() {
  # Any HTTP answer (DynamoDB Local says 400 to an unsigned GET) means it is serving. Plain bash
  # (/dev/tcp) rather than curl, which a fresh machine may not have.
  local reply
  reply="$(
    timeout 3 bash -c '
      exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
      printf "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3
      head -c 5 <&3
    ' answers "$port" 2>/dev/null
  )" || return 1
  [[ "$reply" == "HTTP/" ]]
}

is_running() {
  [[ -f "$pidfile" ]] && kill -0 "$(cat -- "$pidfile")" 2>/dev/null
}

readonly JAVA_HINT="install a Java runtime, 11 or later: on Debian or Ubuntu \`apt-get install default-jre-headless\` (or openjdk-17-jre-headless)"

# Fails, naming what to install, unless `java -version` reports Java 11 or later.
require_java() {
  if ! command -v java >/dev/null 2>&1; then
    echo "DynamoDB Local needs Java, and \`java\` is not on PATH: $JAVA_HINT" >&2
    exit 1
  fi
  local banner
  if ! banner="$(java -version 2>&1)"; then
    printf 'DynamoDB Local needs Java, and `java -version` failed:\n%s\n%s\n' "$banner" "$JAVA_HINT" >&2
    exit 1
  fi
  # `openjdk version "17.0.15" …`, `java version "1.8.0_392" …`, `openjdk version "21" …`
  local version major
  version="$(sed -n 's/^.* version "\([^"]*\)".*$/\1/p' <<<"$banner" | head -n 1)"
  major="${version%%[.+_-]*}"
  if [[ "$major" == 1 ]]; then
    major="${version#1.}"
    major="${major%%[.+_-]*}"
  fi
  if [[ ! "$major" =~ ^[0-9]+$ ]]; then
    printf 'cannot tell the Java version from `java -version`:\n%s\n' "$banner" >&2
    exit 1
  fi
  if ((major < 11)); then
    echo "DynamoDB Local needs Java 11 or later, found $version: $JAVA_HINT" >&2
    exit 1
  fi
}

start() {
  if is_running && answers; then
    echo "http://127.0.0.1:$port"
    return
  fi
  require_java
  if answers; then
    echo "port $port on 127.0.0.1 is taken by another process; set KEYHEAL_DYNAMODB_LOCAL_PORT" >&2
    exit 1
  fi
  local dir
  dir="$(fetch_jar_dir)"
  # setsid: the server outlives this script and the shell that ran it. exec: the recorded pid is
  # java's own.
  (
    cd -- "$dir"
    exec setsid java -Djava.library.path="$dir/DynamoDBLocal_lib" -jar "$dir/DynamoDBLocal.jar" \
      -inMemory -port "$port" >"$logfile" 2>&1 </dev/null
  ) &
  echo $! >"$pidfile"
  local deadline=$((SECONDS + 60))
  until answers; do
    if ! is_running; then
      echo "DynamoDB Local exited; its log ($logfile):" >&2
      cat -- "$logfile" >&2
      rm -f -- "$pidfile"
      exit 1
    fi
    if ((SECONDS > deadline)); then
      echo "DynamoDB Local did not answer on port $port within 60 s; see $logfile" >&2
      stop
      exit 1
    fi
    sleep 0.2
  done
  echo "http://127.0.0.1:$port"
}

# Stops the server this script started (if any) and waits until it has exited, so the port is free.
stop() {
  [[ -f "$pidfile" ]] || return 0
  local pid
  pid="$(cat -- "$pidfile")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null; do
      if ((SECONDS > deadline)); then
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.1
    done
  fi
  rm -f -- "$pidfile"
}

# Runs a command with KEYHEAL_DYNAMODB_ENDPOINT set to a DynamoDB Local started for it, stops the
# server however the command ends (unless it was already running), and exits with its status.
run() {
  if (($# == 0)); then
    echo "usage: $0 run [--] command [args…]" >&2
    exit 2
  fi
  local endpoint
  if is_running && answers; then
    endpoint="http://127.0.0.1:$port"
    echo "dynamodb-local: using the server already running at $endpoint" >&2
  else
    trap stop EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    endpoint="$(start)"
    echo "dynamodb-local: started at $endpoint" >&2
  fi
  local status=0
  KEYHEAL_DYNAMODB_ENDPOINT="$endpoint" "$@" || status=$?
  exit "$status"
}

command="${1:-start}"
(($# == 0)) || shift
case "$command" in
  start) start ;;
  stop) stop ;;
  run)
    [[ "${1:-}" != "--" ]] || shift
    run "$@"
    ;;
  *)
    echo "usage: $0 [start|stop|run [--] command [args…]]" >&2
    exit 2
    ;;
esac
