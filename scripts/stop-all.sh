#!/usr/bin/env bash
# Stops what scripts/start-all.sh started, by the PIDs it recorded under $RUN_DIR/pids (never by name):
# SIGTERM (the workers drain and close their pools), up to 15 s, then SIGKILL.
#   RUN_DIR [<repo>/.run]  must be the same as for start-all.sh
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd -P)"
abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac }
RUN_DIR="$(abspath "${RUN_DIR:-$ROOT/.run}")"
PID_DIR="$RUN_DIR/pids"

log() { printf 'stop-all: %s\n' "$*"; }

# Reverse start order: the gateway first (no new requests), meta last (everyone depends on it).
# Services not in this list (added later) are stopped before all of these.
ORDER=(gateway dav transfer download upload file account meta)

alive() { # PID: running and not a zombie waiting to be reaped
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state="$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null || true)"
  [ -n "$state" ] && [ "$state" != Z ]
}

stop_one() { # NAME
  local name="$1" pidfile="$PID_DIR/$1.pid" entryfile="$PID_DIR/$1.entry" pid entry i
  [ -e "$pidfile" ] || return 0
  pid="$(tr -dc '0-9' <"$pidfile")"
  # The entry file start-all.sh recorded; by convention if that record is missing.
  if [ -s "$entryfile" ]; then
    entry="$(cat "$entryfile")"
  elif [ "$name" = gateway ]; then
    entry="$ROOT/gateway/main.ts"
    if tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$ROOT/gateway/deno-main.ts"; then
      entry="$ROOT/gateway/deno-main.ts"
    fi
  else
    entry="$ROOT/workers/${name%-[0-9]*}/main.ts"
  fi
  if [ -z "$pid" ] || ! alive "$pid"; then
    log "$name: not running (stale pid file removed)"
  # Only a process that runs our entry file: a PID reused by something else is left alone.
  elif ! tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$entry"; then
    log "$name: pid $pid is not $entry any more (pid reused?); not touching it"
  else
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do # 15 s
      alive "$pid" || break
      sleep 0.25
    done
    if alive "$pid"; then
      log "$name: pid $pid still running after 15 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 20; i++)); do
        alive "$pid" || break
        sleep 0.25
      done
    fi
    if alive "$pid"; then log "$name: pid $pid did not exit"; else log "stopped $name pid=$pid"; fi
  fi
  rm -f "$pidfile" "$entryfile"
}

[ -d "$PID_DIR" ] || {
  log "nothing to stop ($PID_DIR does not exist)"
  exit 0
}

# Replicas ("upload-2") stop with their service ("upload"), in ORDER.
rank() { # NAME -> its position in ORDER (0 for services not listed)
  local base="${1%-[0-9]*}" i
  for i in "${!ORDER[@]}"; do [ "${ORDER[$i]}" = "$base" ] && { echo "$((i + 1))"; return; }; done
  echo 0
}
names=()
for f in "$PID_DIR"/*.pid; do
  [ -e "$f" ] || continue
  n="$(basename "$f" .pid)"
  names+=("$(rank "$n") $n")
done

# In ORDER's tiers: the gateway (no new requests), then dav (it calls the others), then the other workers
# side by side (each waits for its own in-flight work), meta last (everyone calls it while draining).
tier() { # the services of the given ranks, from the sorted list
  local r n
  while read -r r n; do
    for want in "$@"; do [ "$r" = "$want" ] && echo "$n"; done
  done < <(printf '%s\n' "${names[@]}" | sort -n -k1,1)
}
last_rank="${#ORDER[@]}"
middle=(0)
for ((r = 3; r < last_rank; r++)); do middle+=("$r"); done
for n in $(tier 1) $(tier 2); do stop_one "$n"; done
pids=()
for n in $(tier "${middle[@]}"); do
  stop_one "$n" &
  pids+=("$!")
done
for p in "${pids[@]}"; do wait "$p" || true; done
for n in $(tier "$last_rank"); do stop_one "$n"; done
