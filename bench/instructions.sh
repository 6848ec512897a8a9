#!/usr/bin/env bash
# Instructions per proxied request, counted by valgrind's callgrind: the steady measure for
# comparing two builds on a machine whose timings swing (steal time, neighbours). Counts do not
# depend on what else the machine runs; they vary by a few per cent between runs (JIT and GC
# timing), so compare builds with two runs each and look at differences above ~5 %.
#
#   bench/instructions.sh [turnpike|reference] [warm-up seconds] [measured seconds]
#
# Starts an nginx upstream (100-byte answers) and the proxy under callgrind with instrumentation
# off, warms it up with wrk, counts a measured wrk run, and prints main-thread instructions per
# request (and all threads'). Extra Turnpike settings: TURNPIKE_* variables are passed through.
# Needs valgrind, wrk, nginx and taskset (Debian: valgrind wrk nginx util-linux). Build first
# (`npm run build:test`). With PLUGINS=1 (turnpike only) the measured route is /karl with key-auth
# + rate-limiting (local), as in the bench's plugins scenario; wrk sends the key. Takes 1–2 minutes; shorter warm-ups count JIT compilation too (20 s gave
# ~25 % more than 30 s). With PERF_MAP=1 node writes /tmp/perf-<pid>.map so
# that JIT-compiled functions can be named when reading the callgrind file.
set -euo pipefail
WHAT=${1:-turnpike}
WARM=${2:-30}
DUR=${3:-20}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
for cmd in valgrind callgrind_control wrk nginx taskset curl; do
  command -v "$cmd" >/dev/null || { echo "instructions.sh: $cmd not found (apt-get install -y valgrind wrk nginx util-linux curl)" >&2; exit 1; }
done
[ -f "$ROOT/build/bench/reference-proxy.js" ] || { echo "instructions.sh: build first: npm run build:test" >&2; exit 1; }
case $WHAT in turnpike|reference) ;; *) echo "usage: $0 [turnpike|reference] [warm-up s] [measured s]" >&2; exit 2 ;; esac

URLPATH=/
. "$ROOT/bench/lib/upstream.sh"
TMP=$(mktemp -d)
UP=$(free_port); PX=$(free_port); AD=$(free_port)
cleanup() {
  [ -n "${VGPID:-}" ] && kill "$VGPID" 2>/dev/null || true
  [ "$WHAT" = turnpike ] && TURNPIKE_PREFIX=$TMP/tp node "$ROOT/bin/turnpike" stop >/dev/null 2>&1 || true
  stop_upstream_nginx "$TMP"
  sleep 0.5; rm -rf "$TMP"
}
trap cleanup EXIT

start_upstream_nginx "$TMP" "$UP"

NODEFLAGS=()
[ "${PERF_MAP:-0}" = 1 ] && NODEFLAGS+=(--perf-basic-prof)
VG=(valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes --trace-children=yes "--callgrind-out-file=$TMP/cg.%p")
if [ "$WHAT" = reference ]; then
  PORT=$PX UPSTREAM=http://127.0.0.1:$UP taskset -c 0 "${VG[@]}" node "${NODEFLAGS[@]}" "$ROOT/build/bench/reference-proxy.js" >"$TMP/proxy.log" 2>&1 &
  VGPID=$!
  for _ in $(seq 300); do curl -s -m 2 -o /dev/null "http://127.0.0.1:$PX/" && break; sleep 0.5; done
  TARGET=$VGPID
else
  TURNPIKE_PREFIX=$TMP/tp TURNPIKE_PROXY_LISTEN="127.0.0.1:$PX reuseport backlog=16384" TURNPIKE_ADMIN_LISTEN=127.0.0.1:$AD TURNPIKE_STATUS_LISTEN=off \
    TURNPIKE_WORKER_PROCESSES=1 taskset -c 0 "${VG[@]}" node "${NODEFLAGS[@]}" "$ROOT/bin/turnpike" start >"$TMP/proxy.log" 2>&1 &
  VGPID=$!
  for _ in $(seq 600); do curl -s -m 2 -o /dev/null "http://127.0.0.1:$AD/status" && break; sleep 0.5; done
  curl -s -o /dev/null -X POST "http://127.0.0.1:$AD/services" -d name=bench -d "url=http://127.0.0.1:$UP"
  curl -s -o /dev/null -X POST "http://127.0.0.1:$AD/services/bench/routes" -d 'paths[]=/'
  if [ "${PLUGINS:-0}" = 1 ]; then
    # The bench's plugins scenario: key-auth + rate-limiting (local) on /karl, a consumer with a key.
    curl -s -o /dev/null -X POST "http://127.0.0.1:$AD/services/bench/routes" -d name=karl -d 'paths[]=/karl'
    curl -s -o /dev/null -X POST "http://127.0.0.1:$AD/routes/karl/plugins" -d name=key-auth
    curl -s -o /dev/null -X POST "http://127.0.0.1:$AD/routes/karl/plugins" -H 'content-type: application/json' \
      -d '{"name":"rate-limiting","config":{"second":1000000000,"policy":"local"}}'
    curl -s -o /dev/null -X POST "http://127.0.0.1:$AD/consumers" -d username=bench
    curl -s -o /dev/null -X POST "http://127.0.0.1:$AD/consumers/bench/key-auth" -d key=bench-key
    URLPATH=/karl
  fi
  for _ in $(seq 100); do [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' -H 'apikey: bench-key' "http://127.0.0.1:$PX$URLPATH")" = 200 ] && break; sleep 0.5; done
  TARGET=$(pgrep -P "$(cat "$TMP/tp/pids/turnpike.pid")" | head -1)   # the worker
fi

echo "warm-up ${WARM}s (not counted)…" >&2
taskset -c 1 wrk -t1 -c8 -d"${WARM}s" -H 'apikey: bench-key' "http://127.0.0.1:$PX$URLPATH" >/dev/null
callgrind_control -z "$TARGET" >/dev/null
callgrind_control -i on "$TARGET" >/dev/null
N=$(taskset -c 1 wrk -t1 -c8 -d"${DUR}s" -H 'apikey: bench-key' "http://127.0.0.1:$PX$URLPATH" | awk '/requests in/ {print $1}')
callgrind_control -i off "$TARGET" >/dev/null
callgrind_control -d "$TARGET" >/dev/null
sleep 1
main=0; all=0
for f in "$TMP"/cg."$TARGET".*; do
  t=$(awk '/^totals:/ {print $2; exit}' "$f"); t=${t:-0}
  all=$((all + t))
  case $f in *-01) main=$t ;; esac
done
echo "$WHAT$([ "$URLPATH" = / ] || echo " $URLPATH"): $N requests counted; $((main / N)) instructions per request on the main thread, $((all / N)) on all threads"
if [ -n "${KEEP:-}" ]; then cp "$TMP"/cg."$TARGET".* "$KEEP"/ && echo "callgrind files copied to $KEEP"; fi
