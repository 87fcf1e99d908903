#!/usr/bin/env bash
# Services mode: every service its own process on its own port, against the MySQL/MariaDB and Redis named
# in the environment. Logs per service, a health check before "started", PIDs recorded for stop-all.sh.
#
#   DATABASE_URL=mysql://user:pass@host:3306/db REDIS_URL=redis://host:6379 scripts/start-all.sh
#
# Environment (defaults in brackets):
#   DATABASE_URL   required, mysql://...  (handed to meta only: it is the one service with DB credentials)
#   REDIS_URL      required, redis://...
#   HOST [127.0.0.1]   listen address of every process
#   META_PORT [9102] ACCOUNT_PORT [9101] GATEWAY_PORT [8080]
#   FILE_PORT [9103] UPLOAD_PORT [28080] DOWNLOAD_PORT [38080] TRANSFER_PORT [9106] DAV_PORT [9107]
#   <NAME>_REPLICAS [2 for upload and download, else 1]  processes of that service, side by side
#   <NAME>_PORTS [<NAME>_PORT, <NAME>_PORT+1, ...]  comma-separated, one port per replica
#   META_URL, ACCOUNT_URL, FILE_URL, UPLOAD_URL, DOWNLOAD_URL, TRANSFER_URL, DAV_URL [http://HOST:<port>, one URL per
#       replica, comma-separated: callers balance over them and retry another replica when one is down]
#   With BLOB_BACKEND=local, replicas on several machines need one shared directory (DATA_DIR / BLOB_DIR
#   on a network file system): a client's parts may reach any replica. On one machine they share DATA_DIR.
#   STORAGE_POLICY [local]  local | s3 | transfer (S3_* needed; upload and transfer share DATA_DIR/BLOB_DIR)
#   GATEWAY_RUNTIME [deno]  deno | bun
#   RUN_DIR [<repo>/.run]   pids/ and, by default, logs, secrets and data
#   LOG_DIR [$RUN_DIR/logs]
#   INTERNAL_SECRET [generated once into $RUN_DIR/internal-secret, 0600, and reused]
#   JWT_KEY_FILE [$RUN_DIR/jwt-signing-key.jwk]  (the account worker creates it when absent)
#   DATA_DIR [$RUN_DIR/data]
# Anything else in the environment (S3_*, JWT_ISSUER, SIGNIN_LIMIT_*, ...) passes through to every process.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd -P)"
BUN="$ROOT/node_modules/.bin/bun"
DENO="$ROOT/node_modules/.bin/deno"

log() { printf 'start-all: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# Worker services in start order. meta comes first: it runs the database migrations and everyone calls it;
# account second: it creates the token signing key. A later service is one more name here (and a
# <NAME>_PORT default below); its entry is workers/<name>/main.ts. The gateway is started last.
WORKERS=(meta account upload download file transfer dav)

# --- configuration ---------------------------------------------------------------------------------

[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is required (mysql://user:password@host:3306/database)"
case "$DATABASE_URL" in
mysql://*) ;;
*) die "DATABASE_URL must be a mysql:// URL in services mode (got \"${DATABASE_URL%%:*}:...\"); SQLite is for the all-in-one mode (npm start)" ;;
esac
[ -n "${REDIS_URL:-}" ] || die "REDIS_URL is required (redis://host:6379)"
case "$REDIS_URL" in
redis://* | rediss://*) ;;
*) die "REDIS_URL must be a redis:// or rediss:// URL (got \"${REDIS_URL%%:*}:...\")" ;;
esac

HOST="${HOST:-127.0.0.1}"
META_PORT="${META_PORT:-9102}"
ACCOUNT_PORT="${ACCOUNT_PORT:-9101}"
FILE_PORT="${FILE_PORT:-9103}"
UPLOAD_PORT="${UPLOAD_PORT:-28080}"
DOWNLOAD_PORT="${DOWNLOAD_PORT:-38080}"
TRANSFER_PORT="${TRANSFER_PORT:-9106}"
DAV_PORT="${DAV_PORT:-9107}"
GATEWAY_PORT="${GATEWAY_PORT:-8080}"
GATEWAY_RUNTIME="${GATEWAY_RUNTIME:-deno}"
case "$GATEWAY_RUNTIME" in deno | bun) ;; *) die "GATEWAY_RUNTIME must be deno or bun (got \"$GATEWAY_RUNTIME\")" ;; esac

# Absolute paths: the processes run with the repo root as their working directory.
abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac }
RUN_DIR="$(abspath "${RUN_DIR:-$ROOT/.run}")"
LOG_DIR="$(abspath "${LOG_DIR:-$RUN_DIR/logs}")"
PID_DIR="$RUN_DIR/pids"
DATA_DIR="$(abspath "${DATA_DIR:-$RUN_DIR/data}")"
JWT_KEY_FILE="$(abspath "${JWT_KEY_FILE:-$RUN_DIR/jwt-signing-key.jwk}")"

# Clients cannot dial a wildcard listen address; they use loopback then.
case "$HOST" in 0.0.0.0 | :: | "[::]") CONNECT_HOST=127.0.0.1 ;; *) CONNECT_HOST="$HOST" ;; esac
url_for() { printf 'http://%s:%s\n' "$CONNECT_HOST" "$1"; }

# Replicas: <NAME>_PORTS (one per replica) from <NAME>_PORT and <NAME>_REPLICAS unless given.
UPLOAD_REPLICAS="${UPLOAD_REPLICAS:-2}"
DOWNLOAD_REPLICAS="${DOWNLOAD_REPLICAS:-2}"
for svc in META ACCOUNT FILE UPLOAD DOWNLOAD TRANSFER DAV; do
  replicas_var="${svc}_REPLICAS" ports_var="${svc}_PORTS" port_var="${svc}_PORT" url_var="${svc}_URL"
  replicas="${!replicas_var:-1}"
  [[ "$replicas" =~ ^[1-9][0-9]?$ ]] || die "$replicas_var must be a number from 1 to 99 (got \"$replicas\")"
  if [ -z "${!ports_var:-}" ]; then
    ports=()
    for ((i = 0; i < replicas; i++)); do ports+=("$((${!port_var} + i))"); done
    printf -v "$ports_var" '%s' "$(IFS=,; echo "${ports[*]}")"
  fi
  IFS=, read -r -a ports <<<"${!ports_var}"
  [ "${#ports[@]}" -eq "$replicas" ] || die "$ports_var has ${#ports[@]} ports but $replicas_var is $replicas"
  urls=()
  for p in "${ports[@]}"; do urls+=("$(url_for "$p")"); done
  [ -n "${!url_var:-}" ] || printf -v "$url_var" '%s' "$(IFS=,; echo "${urls[*]}")"
done

[ -x "$BUN" ] || die "$BUN not found: run 'npm ci' in $ROOT first"
if [ "$GATEWAY_RUNTIME" = deno ]; then [ -x "$DENO" ] || die "$DENO not found: run 'npm ci' in $ROOT first"; fi
command -v curl >/dev/null 2>&1 || die "curl is needed for the health checks (apt-get install curl)"

mkdir -p "$PID_DIR" "$LOG_DIR" "$DATA_DIR"
chmod 700 "$RUN_DIR"

# The secret that internal callers present to meta: the same in every process, kept across restarts.
if [ -z "${INTERNAL_SECRET:-}" ]; then
  secret_file="$RUN_DIR/internal-secret"
  if [ ! -s "$secret_file" ]; then
    (
      umask 077
      od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$secret_file.tmp"
      mv "$secret_file.tmp" "$secret_file"
    )
    log "generated INTERNAL_SECRET into $secret_file"
  fi
  chmod 600 "$secret_file"
  INTERNAL_SECRET="$(cat "$secret_file")"
fi

# What every process sees, with two exceptions (least privilege): DATABASE_URL reaches only the services in
# DB_SERVICES, and INTERNAL_SECRET (which opens meta) only the workers, not the edge gateway.
export HOST REDIS_URL INTERNAL_SECRET DATA_DIR JWT_KEY_FILE
export META_URL ACCOUNT_URL FILE_URL UPLOAD_URL DOWNLOAD_URL TRANSFER_URL DAV_URL
export DENO_NO_UPDATE_CHECK=1
DB_SERVICES=" meta "

# --- process helpers -------------------------------------------------------------------------------

# PID from a pid file if that process is alive (a zombie is not) and runs the expected entry file.
live_pid() { # PIDFILE ENTRY
  local pid state
  [ -s "$1" ] || return 1
  pid="$(tr -dc '0-9' <"$1")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  state="$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null || true)"
  [ "$state" != Z ] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$2" || return 1
  printf '%s\n' "$pid"
}

port_in_use() { (exec 3<>"/dev/tcp/$CONNECT_HOST/$1") 2>/dev/null; }

entry_for() { # NAME or NAME-k (a replica) -> the entry file stop-all.sh looks for in the command line
  if [ "$1" != gateway ]; then
    echo "$ROOT/workers/${1%-[0-9]*}/main.ts"
  elif [ "$GATEWAY_RUNTIME" = deno ]; then
    # Deno.serve has no connection timeouts: this entry adds them (gateway/serve/deno.ts).
    echo "$ROOT/gateway/deno-main.ts"
  else
    echo "$ROOT/gateway/main.ts"
  fi
}

healthy() { # NAME PORT
  local base
  base="$(url_for "$2")"
  if [ "$1" = gateway ]; then
    curl -sf -o /dev/null --max-time 2 "$base/healthz"
  else
    curl -sf --max-time 2 -XPOST -H 'content-type: application/json' -d '{}' \
      "$base/grpc.health.v1.Health/Check" 2>/dev/null | grep -q '"status":"SERVING"'
  fi
}

STARTED=()

# On any failure (or Ctrl-C) stop what this run started, newest first, through stop-all.sh.
abort() {
  trap - INT TERM
  if [ "${#STARTED[@]}" -gt 0 ]; then
    log "stopping what was started: ${STARTED[*]}"
    RUN_DIR="$RUN_DIR" bash "$SCRIPT_DIR/stop-all.sh" >&2 || true
  fi
  exit 1
}
trap 'log "interrupted"; abort' INT TERM

# Starts NAME on PORT in the background (pid file, log); await_healthy then waits for it.
launch_service() { # NAME PORT CMD...
  local name="$1" port="$2"
  shift 2
  local pidfile="$PID_DIR/$name.pid" logfile="$LOG_DIR/$name.log" entry pid
  entry="$(entry_for "$name")"
  if pid="$(live_pid "$pidfile" "$entry")"; then
    log "$name is already running (pid $pid); run scripts/stop-all.sh first"
    abort
  fi
  rm -f "$pidfile"
  if port_in_use "$port"; then
    log "$name: port $CONNECT_HOST:$port is already in use by another process"
    abort
  fi

  printf '\n=== %s: starting %s on %s:%s\n' "$(date -u +%FT%TZ)" "$name" "$HOST" "$port" >>"$logfile"
  (
    cd "$ROOT"
    export PORT="$port"
    case "$DB_SERVICES" in *" $name "*) export DATABASE_URL ;; *) unset DATABASE_URL ;; esac
    if [ "$name" = gateway ]; then unset INTERNAL_SECRET; fi
    # setsid: its own session, so closing the terminal or Ctrl-C on a later command leaves it alone;
    # exec keeps $! the service's own PID.
    exec setsid "$@" </dev/null >>"$logfile" 2>&1
  ) &
  pid=$!
  echo "$pid" >"$pidfile"
  echo "$entry" >"$PID_DIR/$name.entry"
  STARTED+=("$name")
}

await_healthy() { # NAME PORT
  local name="$1" port="$2" logfile="$LOG_DIR/$1.log" pid i
  pid="$(tr -dc '0-9' <"$PID_DIR/$name.pid")"
  for ((i = 0; i < 120; i++)); do # ~30 s
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited during startup; last lines of $logfile:"
      tail -n 30 "$logfile" >&2
      abort
    fi
    # Healthy counts only while our own process is alive (not some other server on the port).
    if healthy "$name" "$port" && kill -0 "$pid" 2>/dev/null; then
      echo "started $name pid=$pid url=$(url_for "$port")"
      return 0
    fi
    sleep 0.25
  done
  log "$name did not become healthy within 30 s; last lines of $logfile:"
  tail -n 30 "$logfile" >&2
  abort
}

# --- start -----------------------------------------------------------------------------------------

# Refuse up front if any service of ours is still running, before starting anything.
for pidfile in "$PID_DIR"/*.pid; do
  [ -e "$pidfile" ] || continue
  name="$(basename "$pidfile" .pid)"
  if pid="$(live_pid "$pidfile" "$(entry_for "$name")")"; then
    die "$name is already running (pid $pid); run scripts/stop-all.sh first"
  fi
done

# Each worker (every replica: "<name>-k" with its own pid file and log) as NAME PORT pairs.
instances() { # WORKER...
  local name ports_var ports k
  for name in "$@"; do
    ports_var="${name^^}_PORTS"
    IFS=, read -r -a ports <<<"${!ports_var}"
    if [ "${#ports[@]}" -eq 1 ]; then
      echo "$name ${ports[0]}"
    else
      for k in "${!ports[@]}"; do echo "$name-$((k + 1)) ${ports[$k]}"; done
    fi
  done
}

# Started in tiers, each tier's processes side by side (startup is mostly waiting: ~1 s a process):
# meta first (it migrates the database and everyone calls it), then account (it creates the token signing
# key the others read), then every other worker, then the gateway.
start_tier() { # WORKER...
  local pairs=() pair
  mapfile -t pairs < <(instances "$@")
  for pair in "${pairs[@]}"; do
    read -r name port <<<"$pair"
    launch_service "$name" "$port" "$BUN" "$(entry_for "$name")"
  done
  for pair in "${pairs[@]}"; do
    read -r name port <<<"$pair"
    await_healthy "$name" "$port"
  done
}
start_tier "${WORKERS[@]:0:1}"
start_tier "${WORKERS[@]:1:1}"
start_tier "${WORKERS[@]:2}"

if [ "$GATEWAY_RUNTIME" = deno ]; then
  launch_service gateway "$GATEWAY_PORT" "$DENO" run --allow-net --allow-env --allow-read "$(entry_for gateway)"
else
  launch_service gateway "$GATEWAY_PORT" "$BUN" "$(entry_for gateway)"
fi
await_healthy gateway "$GATEWAY_PORT"

trap - INT TERM
echo "gateway: $(url_for "$GATEWAY_PORT")"
