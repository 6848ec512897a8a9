#!/usr/bin/env bash
# Same-core A/B of two Turnpike checkouts: both run at the same time on core 0 (1 worker each),
# each loaded by its own wrk on core 1, so whatever slows the machine slows both alike. The pair
# is run in both start orders, because the build started second tends to get a few per cent more.
#
#   bench/ab.sh <checkout A> <checkout B> [rounds per order, default 3]
#
# Each checkout must be built (`npm run build:test`, or `npx tsc -p tsconfig.test.json`; a
# `git worktree add /tmp/A <commit>` with a `node_modules` symlink does). ROUTE=service (default)
# proxies to the service's own host; ROUTE=upstream goes through an upstream entity with one
# target. Prints, per round, requests and worker CPU per request of each, and B/A.
# Needs wrk, nginx and taskset (Debian: wrk nginx util-linux).
set -euo pipefail
A=$(cd "$1" && pwd); B=$(cd "$2" && pwd); ROUNDS=${3:-3}; ROUTE=${ROUTE:-service}
for cmd in wrk nginx taskset curl; do
  command -v "$cmd" >/dev/null || { echo "ab.sh: $cmd not found (apt-get install -y wrk nginx util-linux curl)" >&2; exit 1; }
done
for d in "$A" "$B"; do [ -f "$d/build/src/runtime/worker-entry.js" ] || { echo "ab.sh: $d is not built (npm run build:test)" >&2; exit 1; }; done
. "$(dirname "$0")/lib/upstream.sh"
TMP=$(mktemp -d)
UP=$(free_port)
stop_all() {
  for p in "$TMP"/tp-*; do [ -d "$p" ] && TURNPIKE_PREFIX=$p node "$A/bin/turnpike" stop >/dev/null 2>&1 || true; done
}
cleanup() {
  stop_all
  stop_upstream_nginx "$TMP"
  sleep 0.3; rm -rf "$TMP"
}
trap cleanup EXIT
start_upstream_nginx "$TMP" "$UP"

# start <checkout> <name>: prints "<proxy port> <worker pid>"
start() {
  local root=$1 p=$TMP/tp-$2 px ad
  px=$(free_port); ad=$(free_port)
  TURNPIKE_PREFIX=$p TURNPIKE_PROXY_LISTEN="127.0.0.1:$px" TURNPIKE_ADMIN_LISTEN="127.0.0.1:$ad" TURNPIKE_STATUS_LISTEN=off \
    TURNPIKE_WORKER_PROCESSES=1 taskset -c 0 node "$root/bin/turnpike" start >"$p.log" 2>&1 &
  for _ in $(seq 100); do curl -s -m 2 -o /dev/null "http://127.0.0.1:$ad/status" && break; sleep 0.3; done
  if [ "$ROUTE" = upstream ]; then
    curl -s -o /dev/null -X POST "http://127.0.0.1:$ad/upstreams" -d name=up
    curl -s -o /dev/null -X POST "http://127.0.0.1:$ad/upstreams/up/targets" -d "target=127.0.0.1:$UP"
    curl -s -o /dev/null -X POST "http://127.0.0.1:$ad/services" -d name=bench -d url=http://up
  else
    curl -s -o /dev/null -X POST "http://127.0.0.1:$ad/services" -d name=bench -d "url=http://127.0.0.1:$UP"
  fi
  curl -s -o /dev/null -X POST "http://127.0.0.1:$ad/services/bench/routes" -d 'paths[]=/'
  for _ in $(seq 100); do [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$px/")" = 200 ] && break; sleep 0.3; done
  echo "$px $(pgrep -P "$(cat "$p/pids/turnpike.pid")" | head -1)"
}
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
# two wrk runs at once; their outputs in $TMP/w1 and $TMP/w2
both() {
  taskset -c 1 wrk -t1 -c50 -d"$1s" "http://127.0.0.1:$2/" >"$TMP/w1" & local w=$!
  taskset -c 1 wrk -t1 -c50 -d"$1s" "http://127.0.0.1:$3/" >"$TMP/w2"
  wait "$w"
}
TICK=$(getconf CLK_TCK)

run_order() { # first-started checkout, its label, second, its label
  read -r P1 W1 < <(start "$1" "$2")
  read -r P2 W2 < <(start "$3" "$4")
  both 5 "$P1" "$P2"   # warm-up
  for r in $(seq "$ROUNDS"); do
    c1=$(cpu "$W1"); c2=$(cpu "$W2")
    both 10 "$P1" "$P2"
    n1=$(awk '/requests in/ {print $1}' "$TMP/w1"); n2=$(awk '/requests in/ {print $1}' "$TMP/w2")
    u1=$(( ($(cpu "$W1") - c1) * 1000000000 / TICK / n1 )); u2=$(( ($(cpu "$W2") - c2) * 1000000000 / TICK / n2 ))
    if [ "$2" = A ]; then na=$n1 ua=$u1 nb=$n2 ub=$u2; else na=$n2 ua=$u2 nb=$n1 ub=$u1; fi
    echo "$2 started first, round $r: A $na req, $ua ns CPU/req | B $nb req, $ub ns CPU/req | B/A requests $(node -e "console.log(($nb/$na).toFixed(3))")"
  done
  stop_all; sleep 0.5
  rm -rf "$TMP"/tp-*
}
echo "route: $ROUTE; A = $A; B = $B"
run_order "$A" A "$B" B
run_order "$B" B "$A" A
