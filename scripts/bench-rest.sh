#!/usr/bin/env bash
# REST benchmark: 50 concurrent connections of signed requests against the query API on the bundled
# archive (testdata/archiver-db), with wrk. Each route rotates over N distinct signed bodies (default
# 1000) that all ask for the same rows; the server verifies every request's signature.
# Usage: scripts/bench-rest.sh [duration, default 10s]
# Env: N (bodies per route), CONNS, THREADS, CPUPROFILE=file, RESPONSE_CACHE=-1 (serve without the
# whole-reply cache: every request queries SQLite, the row cache stays), NICE=-10 (run the server and
# wrk at that scheduling priority: on a machine other jobs share, the nearest thing to a quiet one).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10s}
N=${N:-1000}
CONNS=${CONNS:-50}
THREADS=${THREADS:-2}
NICE=${NICE:-0}

if ! command -v wrk >/dev/null; then
	apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

tmp=$(mktemp -d)
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/restserver" ./scripts/restserver
go build -o "$tmp/restbodies" ./scripts/restbodies
"$tmp/restbodies" -out "$tmp" -n "$N"

args=(-db testdata/archiver-db -response-cache "${RESPONSE_CACHE:-0}")
[ -n "${CPUPROFILE:-}" ] && args+=(-cpuprofile "$CPUPROFILE")
nice -n "$NICE" "$tmp/restserver" "${args[@]}" >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
for _ in $(seq 100); do
	grep -q "listening on" "$tmp/server.out" 2>/dev/null && break
	sleep 0.1
done
addr=$(sed -n 's/^listening on //p' "$tmp/server.out")
[ -n "$addr" ] || { cat "$tmp/server.err"; exit 1; }
base="http://$addr"

# Every reply must be a signed success before we time anything.
"$tmp/restbodies" -out "$tmp" -check "$base"

# CPU seconds (user+system) the server and wrk have used so far, from /proc.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other processes share these cores)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "go: $(go version | cut -d' ' -f3)   wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
for route in totalData cycleinfo receipt; do
	echo
	echo "== $route: $(head -c 160 "$tmp/$route.txt" | cut -c1-100)…"
	echo "\$ nice -n $NICE wrk -t$THREADS -c$CONNS -d$DUR --latency -s scripts/wrk-rotate.lua $base/$route -- $route.txt"
	before=$(cpu_of "$server_pid")
	nice -n "$NICE" wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency -s scripts/wrk-rotate.lua "$base/$route" -- "$tmp/$route.txt" | tee "$tmp/wrk.out"
	after=$(cpu_of "$server_pid")
	reqs=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
	awk -v a="$after" -v b="$before" -v n="$reqs" 'BEGIN { printf "server CPU: %.1f s for %d requests = %.0f us/request\n", a - b, n, (a - b) * 1e6 / n }'
	echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
done
