#!/usr/bin/env bash
# Private MariaDB + Redis + S3 (Ceph RGW) for the test suites, without systemd or Docker.
#
#   eval "$(scripts/test-deps.sh start)"   # starts all three (idempotent), prints `export TEST_...=...`
#   scripts/test-deps.sh install           # only installs the packages when missing (root: apt-get)
#   scripts/test-deps.sh env               # prints the export lines only (starts nothing)
#   scripts/test-deps.sh status            # exit 0 if all are up
#   scripts/test-deps.sh stop              # stops all by their recorded PIDs
#   scripts/test-deps.sh clean             # stop, then delete the state dir
#
# Every server listens on 127.0.0.1 only, on private ports (so a system MySQL/Redis on 3306/6379 is never
# touched) below the kernel's ephemeral range (32768-60999: a client connection may hold such a port, and
# the server then cannot bind it), with their data, sockets, pid files and logs under one state dir.
#   TEST_MYSQL_PORT (13306)  TEST_REDIS_PORT (16379)  TEST_S3_PORT (17480)
#   TEST_DEPS_DIR (${TMPDIR:-/tmp}/filestore-test-deps)
#
# S3 is a throw-away single-node Ceph cluster with a RADOS Gateway (in-memory OSD), started and stopped by
# ../shared/services/start-rgw.sh and stop-rgw.sh beside the repository (CI clones it there). Without
# those scripts, or with TEST_S3=0, no S3 is started and no TEST_S3_* line is printed (the blob-store
# suite then runs on local disk only; under CI it refuses to).
#
# stdout carries only eval-able lines; every progress message and diagnostic goes to stderr.
set -euo pipefail

MYSQL_PORT="${TEST_MYSQL_PORT:-13306}"
REDIS_PORT="${TEST_REDIS_PORT:-16379}"
S3_PORT="${TEST_S3_PORT:-17480}"
STATE_DIR="${TEST_DEPS_DIR:-${TMPDIR:-/tmp}/filestore-test-deps}"
DB_NAME=filestore_test
DB_USER=filestore
DB_PASS=filestore

MYSQL_DATA="$STATE_DIR/mariadb/data"
MYSQL_SOCK="$STATE_DIR/mariadb/mariadb.sock"
MYSQL_PID="$STATE_DIR/mariadb/mariadb.pid"
MYSQL_LOG="$STATE_DIR/mariadb/error.log"
REDIS_DIR="$STATE_DIR/redis"
REDIS_PID="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

# Ceph RGW: the scripts live in shared/ beside the repository; fixed test credentials, so `env` can print
# them without asking the running gateway.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
RGW_START="$REPO_ROOT/../shared/services/start-rgw.sh"
RGW_STOP="$REPO_ROOT/../shared/services/stop-rgw.sh"
RGW_DIR="$STATE_DIR/rgw"
S3_ACCESS_KEY=filestoretestaccess01
S3_SECRET_KEY=filestoretestsecret0000000000000000000001
S3_REGION=us-east-1

# The admin account: created for whoever runs this script, reached only through the unix socket.
ADMIN_USER="$(id -un)"

# Server binaries live in /usr/sbin, which a non-root PATH often lacks.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

log() { printf 'test-deps: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

first_cmd() { # first of the given command names that exists
  local c
  for c in "$@"; do
    if command -v "$c" >/dev/null 2>&1; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

# S3 is wanted unless TEST_S3=0; it is possible when the RGW scripts are there.
s3_enabled() { [ "${TEST_S3:-1}" != 0 ] && [ -f "$RGW_START" ]; }

print_env() {
  echo "export TEST_MYSQL_URL=mysql://$DB_USER:$DB_PASS@127.0.0.1:$MYSQL_PORT/$DB_NAME"
  echo "export TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
  if s3_enabled; then
    echo "export TEST_S3_ENDPOINT=http://127.0.0.1:$S3_PORT TEST_S3_ACCESS_KEY=$S3_ACCESS_KEY" \
      "TEST_S3_SECRET_KEY=$S3_SECRET_KEY TEST_S3_REGION=$S3_REGION"
  fi
}

# --- installation ----------------------------------------------------------------------------------

have_binaries() {
  first_cmd mariadbd mysqld >/dev/null &&
    first_cmd mariadb-install-db mysql_install_db >/dev/null &&
    first_cmd mariadb-admin mysqladmin >/dev/null &&
    first_cmd mariadb mysql >/dev/null &&
    first_cmd redis-server >/dev/null &&
    first_cmd redis-cli >/dev/null
}

PACKAGES=(mariadb-server mariadb-client redis-server)

# Installs Debian packages without letting them start system-wide daemons: we run our own on private
# ports, so service starts are forbidden during the install (the standard policy-rc.d mechanism) unless
# a policy exists already.
apt_install() {
  log "installing $* (apt)"
  local made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  local rc=0
  {
    # Update the package lists only when there are none, or when an install from the old ones fails.
    if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
      apt-get update
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" ||
      { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; }
  } >&2 || rc=$?
  if [ -n "$made_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
  [ "$rc" -eq 0 ] || die "apt-get install $* failed"
}

ensure_installed() {
  have_binaries && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "MariaDB and/or Redis are not installed. Install them (as root) with:
    apt-get install -y --no-install-recommends ${PACKAGES[*]}
  then run this script again."
  fi
  apt_install "${PACKAGES[@]}"
  have_binaries || die "the packages installed but the server binaries are still missing"
}

# Ceph's packages (mon, osd, radosgw, the ceph CLI) for the S3 test server; the list is start-rgw.sh's.
RGW_PACKAGES=(ceph-mon ceph-osd radosgw ceph-common curl)
have_rgw_binaries() {
  local b
  for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph curl; do
    command -v "$b" >/dev/null 2>&1 || return 1
  done
}

ensure_rgw_installed() {
  s3_enabled || return 0
  have_rgw_binaries && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "Ceph RGW (the S3 test server) is not installed. Install it (as root) with:
    apt-get install -y --no-install-recommends ${RGW_PACKAGES[*]}
  then run this script again (or set TEST_S3=0 to test without S3)."
  fi
  apt_install "${RGW_PACKAGES[@]}"
  have_rgw_binaries || die "the Ceph packages installed but the binaries are still missing"
}

# --- helpers ---------------------------------------------------------------------------------------

# The PID recorded in a pid file, if that process is alive and is ours (its command line or working
# directory mentions our state dir), so a recycled PID of some unrelated process is never trusted.
live_pid() {
  local file="$1" pid
  [ -s "$file" ] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  [ -n "$pid" ] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$STATE_DIR" ||
    [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$(cd "$REDIS_DIR" 2>/dev/null && pwd -P)" ]; then
    echo "$pid"
    return 0
  fi
  return 1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

mysql_admin() {
  "$(first_cmd mariadb-admin mysqladmin)" --no-defaults --protocol=socket --socket="$MYSQL_SOCK" -u"$ADMIN_USER" "$@"
}
mysql_root() { # SQL on stdin
  "$(first_cmd mariadb mysql)" --no-defaults --protocol=socket --socket="$MYSQL_SOCK" -u"$ADMIN_USER"
}
mysql_ping() { mysql_admin --connect-timeout=2 ping >/dev/null 2>&1; }
redis_ping() { [ "$("$(first_cmd redis-cli)" -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

# --- MariaDB ---------------------------------------------------------------------------------------

start_mariadb() {
  local pid
  if pid="$(live_pid "$MYSQL_PID")"; then
    if mysql_ping; then
      log "MariaDB already running (pid $pid, port $MYSQL_PORT)"
      return 0
    fi
    log "MariaDB pid $pid is alive but does not answer yet; waiting"
  else
    rm -f "$MYSQL_PID" "$MYSQL_SOCK"
    if port_in_use "$MYSQL_PORT"; then
      die "port 127.0.0.1:$MYSQL_PORT is taken by another process; set TEST_MYSQL_PORT to a free port"
    fi
    mkdir -p "$STATE_DIR/mariadb"
    # Running as root needs --user=root (mariadbd refuses root otherwise); the data stays root-owned.
    local as_user=()
    if [ "$(id -u)" -eq 0 ]; then as_user=(--user=root); fi

    # A marker, so a half-finished initialisation (killed mid-way) is redone instead of half-used.
    if [ ! -e "$MYSQL_DATA/.filestore-initialised" ]; then
      log "initialising MariaDB datadir $MYSQL_DATA"
      rm -rf "$MYSQL_DATA"
      mkdir -p "$MYSQL_DATA"
      # --no-defaults: ignore /etc/mysql/my.cnf (system socket, port, datadir). The admin accounts
      # (root and the OS user running this) authenticate by unix_socket only: no password to leak, and
      # no passwordless root over TCP.
      "$(first_cmd mariadb-install-db mysql_install_db)" --no-defaults "${as_user[@]}" \
        --datadir="$MYSQL_DATA" --auth-root-authentication-method=socket \
        --auth-root-socket-user="$ADMIN_USER" --skip-test-db \
        >"$STATE_DIR/mariadb/install.log" 2>&1 ||
        {
          tail -n 30 "$STATE_DIR/mariadb/install.log" >&2
          die "mariadb-install-db failed (log: $STATE_DIR/mariadb/install.log)"
        }
      touch "$MYSQL_DATA/.filestore-initialised"
    fi

    log "starting MariaDB on 127.0.0.1:$MYSQL_PORT"
    # setsid: its own session, so a Ctrl-C or a test runner killing our process group leaves it running
    # until `stop`. Durability settings are relaxed: this is throwaway test data and it makes tests faster.
    # utf8mb4 by default, like MySQL 8 (MariaDB 10.11 still defaults to latin1).
    setsid "$(first_cmd mariadbd mysqld)" --no-defaults "${as_user[@]}" \
      --datadir="$MYSQL_DATA" --socket="$MYSQL_SOCK" --pid-file="$MYSQL_PID" \
      --log-error="$MYSQL_LOG" --bind-address=127.0.0.1 --port="$MYSQL_PORT" \
      --skip-name-resolve --max-connections=500 \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
      --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
      --skip-log-bin \
      </dev/null >>"$MYSQL_LOG" 2>&1 &
    pid=$!
  fi

  local i
  for ((i = 0; i < 120; i++)); do # ~60 s
    if mysql_ping; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$MYSQL_LOG" >&2 || true
      die "MariaDB exited during startup (log: $MYSQL_LOG)"
    fi
    sleep 0.5
  done
  if ! mysql_ping; then
    tail -n 30 "$MYSQL_LOG" >&2 || true
    die "MariaDB did not answer within 60 s (log: $MYSQL_LOG)"
  fi

  # Idempotent: the database, the app user over TCP (127.0.0.1) and socket (localhost), and rights on
  # every filestore% database, because suites create a fresh filestore_* database each.
  mysql_root <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON \`filestore%\`.* TO '$DB_USER'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`filestore%\`.* TO '$DB_USER'@'localhost';
FLUSH PRIVILEGES;
SQL
  log "MariaDB ready (pid $(live_pid "$MYSQL_PID" || echo "$pid"), port $MYSQL_PORT)"
}

# --- Redis -----------------------------------------------------------------------------------------

start_redis() {
  local pid
  if pid="$(live_pid "$REDIS_PID")"; then
    if redis_ping; then
      log "Redis already running (pid $pid, port $REDIS_PORT)"
      return 0
    fi
    log "Redis pid $pid is alive but does not answer yet; waiting"
  else
    rm -f "$REDIS_PID"
    if port_in_use "$REDIS_PORT"; then
      die "port 127.0.0.1:$REDIS_PORT is taken by another process; set TEST_REDIS_PORT to a free port"
    fi
    mkdir -p "$REDIS_DIR"
    log "starting Redis on 127.0.0.1:$REDIS_PORT"
    # No persistence (test data); it daemonizes itself and writes the pid file.
    (cd "$REDIS_DIR" && "$(first_cmd redis-server)" --bind 127.0.0.1 --port "$REDIS_PORT" \
      --save '' --appendonly no --daemonize yes --dir "$REDIS_DIR" \
      --pidfile "$REDIS_PID" --logfile "$REDIS_LOG") >&2 ||
      {
        tail -n 30 "$REDIS_LOG" >&2 || true
        die "redis-server failed to start (log: $REDIS_LOG)"
      }
    pid=""
  fi

  local i
  for ((i = 0; i < 60; i++)); do # ~30 s
    if redis_ping && live_pid "$REDIS_PID" >/dev/null; then break; fi
    # The daemon writes its pid file right after forking; once written, the pid must stay alive.
    if [ -s "$REDIS_PID" ] && ! live_pid "$REDIS_PID" >/dev/null; then break; fi
    sleep 0.5
  done
  if ! { redis_ping && pid="$(live_pid "$REDIS_PID")"; }; then
    tail -n 30 "$REDIS_LOG" >&2 || true
    die "Redis did not start (log: $REDIS_LOG)"
  fi
  log "Redis ready (pid $pid, port $REDIS_PORT)"
}

# --- Ceph RGW (S3) ---------------------------------------------------------------------------------

start_rgw() {
  if [ "${TEST_S3:-1}" = 0 ]; then
    log "TEST_S3=0: no S3 test server"
    return 0
  fi
  if [ ! -f "$RGW_START" ]; then
    log "warning: $RGW_START not found: no S3 test server (the blob-store suite runs on local disk only)"
    return 0
  fi
  log "starting Ceph RGW (S3) on 127.0.0.1:$S3_PORT"
  mkdir -p "$RGW_DIR"
  # Idempotent (it only prints the connection info when its gateway answers). setsid: its daemons get
  # their own session, like MariaDB above. Its stdout (S3_* lines) is not ours: print_env prints the same.
  local out
  out="$(RGW_ACCESS_KEY="$S3_ACCESS_KEY" RGW_SECRET_KEY="$S3_SECRET_KEY" \
    setsid -w bash "$RGW_START" "$RGW_DIR" "$S3_PORT" </dev/null)" ||
    die "start-rgw.sh failed (logs: $RGW_DIR/log); set TEST_S3=0 to test without S3"
  grep -qxF "S3_ENDPOINT=http://127.0.0.1:$S3_PORT" <<<"$out" ||
    die "start-rgw.sh printed an unexpected endpoint: $out"
  log "Ceph RGW ready (port $S3_PORT, data in $RGW_DIR)"
}

rgw_running() { [ -f "$RGW_DIR/.ready" ] && curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$S3_PORT/"; }

stop_rgw() {
  if ! compgen -G "$RGW_DIR/run/*.pid" >/dev/null; then
    log "rgw: not running"
    return 0
  fi
  if [ ! -f "$RGW_STOP" ]; then
    log "warning: $RGW_STOP not found; cannot stop the Ceph daemons recorded in $RGW_DIR/run"
    return 0
  fi
  bash "$RGW_STOP" "$RGW_DIR" || log "warning: stop-rgw.sh failed"
  log "rgw: stopped"
}

# --- stop ------------------------------------------------------------------------------------------

stop_pidfile() { # NAME PIDFILE: TERM the recorded PID, wait up to 30 s, then KILL
  local name="$1" file="$2" pid i
  if ! pid="$(live_pid "$file")"; then
    [ -e "$file" ] && log "$name: stale pid file removed"
    rm -f "$file"
    log "$name: not running"
    return 0
  fi
  log "$name: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: still running after 30 s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
  fi
  rm -f "$file"
  log "$name: stopped"
}

stop_all() {
  stop_rgw
  stop_pidfile redis "$REDIS_PID"
  stop_pidfile mariadb "$MYSQL_PID"
  rm -f "$MYSQL_SOCK"
}

cmd="${1:-}"
case "$cmd" in
install)
  ensure_installed
  log "MariaDB and Redis are installed"
  ensure_rgw_installed
  s3_enabled && log "Ceph RGW is installed"
  ;;
start)
  ensure_installed
  ensure_rgw_installed
  start_mariadb
  start_redis
  start_rgw
  print_env
  ;;
stop)
  stop_all
  ;;
status)
  ok=0
  if pid="$(live_pid "$MYSQL_PID")" && mysql_ping; then log "mariadb: running (pid $pid, port $MYSQL_PORT)"; else
    log "mariadb: not running"
    ok=1
  fi
  if pid="$(live_pid "$REDIS_PID")" && redis_ping; then log "redis: running (pid $pid, port $REDIS_PORT)"; else
    log "redis: not running"
    ok=1
  fi
  if s3_enabled; then
    if rgw_running; then log "rgw: running (port $S3_PORT)"; else
      log "rgw: not running"
      ok=1
    fi
  fi
  exit "$ok"
  ;;
env)
  print_env
  ;;
clean)
  stop_all
  log "removing $STATE_DIR"
  rm -rf "$STATE_DIR"
  ;;
*)
  echo "usage: $0 start|stop|status|env|install|clean" >&2
  exit 2
  ;;
esac
