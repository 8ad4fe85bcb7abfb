#!/usr/bin/env bash
# Starts AWS DynamoDB Local (Amazon's own engine, in memory) on 127.0.0.1 in the background and
# prints its endpoint, so the store suite can run against it as well as against dynalite:
#
#   endpoint=$(bash test/harness/dynamodb-local.sh start)
#   KEYHEAL_DYNAMODB_ENDPOINT=$endpoint npx vitest run --project integration test/integration/store
#   bash test/harness/dynamodb-local.sh stop
#
# The jar comes from the npm package amplify-dynamodb-simulator (it bundles DynamoDB Local), fetched
# once with `npm pack` into a cache directory. Needs Java 11 or later.
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
  # Any HTTP answer (DynamoDB Local says 400 to an unsigned GET) means it is serving.
  curl --silent --output /dev/null --max-time 2 "http://127.0.0.1:$port/" 2>/dev/null
}

is_running() {
  [[ -f "$pidfile" ]] && kill -0 "$(cat -- "$pidfile")" 2>/dev/null
}

start() {
  if is_running && answers; then
    echo "http://127.0.0.1:$port"
    return
  fi
  if ! command -v java >/dev/null; then
    echo "java is missing: install a JRE 11 or later (apt-get install -y openjdk-17-jre-headless)" >&2
    exit 1
  fi
  if answers; then
    echo "port $port on 127.0.0.1 is taken by another process; set KEYHEAL_DYNAMODB_LOCAL_PORT" >&2
    exit 1
  fi
  local dir
  dir="$(fetch_jar_dir)"
  # setsid: the server outlives this script and the shell that ran it.
  (
    cd -- "$dir"
    setsid java -Djava.library.path="$dir/DynamoDBLocal_lib" -jar "$dir/DynamoDBLocal.jar" \
      -inMemory -port "$port" >"$logfile" 2>&1 </dev/null &
    echo $! >"$pidfile"
  )
  local deadline=$((SECONDS + 60))
  until answers; do
    if ! is_running; then
      echo "DynamoDB Local exited; its log ($logfile):" >&2
      cat -- "$logfile" >&2
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

stop() {
  if [[ -f "$pidfile" ]]; then
    local pid
    pid="$(cat -- "$pidfile")"
    kill "$pid" 2>/dev/null || true
    rm -f -- "$pidfile"
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 [start|stop]" >&2
    exit 2
    ;;
esac
