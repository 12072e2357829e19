#!/usr/bin/env bash
# REST benchmark: 50 concurrent connections of signed requests against the query API, with wrk.
# Each route rotates over N distinct signed bodies (default 1000); the server verifies every
# request's signature (no cache of verdicts).
# Usage: scripts/bench-rest.sh [duration, default 10s]
# Env:
#   MODE=same (default): the bodies of a route differ by nonce only and ask for the same rows,
#     on the bundled archive (testdata/archiver-db, 50 cycles x 7 transactions).
#   MODE=distinct: every body asks for different data (/cycleinfo 1,000 different 50-cycle
#     windows, /receipt 1,000 different 100-receipt pages; /totalData has no selector), on an
#     archive of N+100 cycles generated here (dbstore/gen). See scripts/restbodies.
#   REPS=3: runs per route (interleaved: route after route, REPS times); a median table ends the output.
#   RESPONSE_CACHE=-1: no reply cache (every request queries SQLite; the row cache stays).
#   MAX_IN_FLIGHT: the server's -max-in-flight (default 0: GOMAXPROCS slots and yield before
#     writing; -1: plain net/http scheduling, as before the gate).
#   NICE=-20: give the benchmark's own process group (server, wrk, this script) that priority
#     against everything else on the machine. The kernel groups tasks by session (autogroup), so
#     plain `nice` changes nothing against other sessions' jobs; we start a new session and set
#     its autogroup's nice. Server and wrk stay equal among themselves.
#   ROUTES="receipt": the routes to time (default: totalData cycleinfo receipt).
#   N, CONNS, THREADS, CPUPROFILE=file.
# Before timing, restbodies -check posts every body once and verifies every reply: that also fills
# the caches, so the timed runs measure the steady state (every distinct request seen before).
set -euo pipefail
NICE=${NICE:-0}
if [ "$NICE" != 0 ] && [ -z "${BENCH_REST_SESSION:-}" ]; then
	BENCH_REST_SESSION=1 exec setsid -w "$0" "$@"
fi
if [ "$NICE" != 0 ]; then
	echo "$NICE" >/proc/self/autogroup
fi
cd "$(dirname "$0")/.."
DUR=${1:-10s}
N=${N:-1000}
CONNS=${CONNS:-50}
THREADS=${THREADS:-2}
MODE=${MODE:-same}
REPS=${REPS:-3}
ROUTES=${ROUTES:-totalData cycleinfo receipt}

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
"$tmp/restbodies" -out "$tmp" -n "$N" -mode "$MODE"
db=testdata/archiver-db
if [ "$MODE" = distinct ]; then
	db=$tmp/archive
	go run ./dbstore/gen -out "$db" -cycles $((N + 100))
fi

args=(-db "$db" -response-cache "${RESPONSE_CACHE:-0}" -max-in-flight "${MAX_IN_FLIGHT:-0}")
[ -n "${CPUPROFILE:-}" ] && args+=(-cpuprofile "$CPUPROFILE")
"$tmp/restserver" "${args[@]}" >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
for _ in $(seq 300); do
	grep -q "listening on" "$tmp/server.out" 2>/dev/null && break
	sleep 0.1
done
addr=$(sed -n 's/^listening on //p' "$tmp/server.out")
[ -n "$addr" ] || { cat "$tmp/server.err"; exit 1; }
base="http://$addr"

# Every reply must be a signed success before we time anything.
"$tmp/restbodies" -out "$tmp" -check "$base"

# CPU seconds (user+system) of a process so far, and of this script's waited-for children (wrk).
hz=$(getconf CLK_TCK)
cpu_of() { awk -v hz="$hz" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
children_cpu() { awk -v hz="$hz" '{ printf "%.3f", ($16 + $17) / hz }' /proc/$$/stat; }

echo "mode: $MODE ($N distinct signed bodies per route; archive $db)   reply cache: ${RESPONSE_CACHE:-0}   max-in-flight: ${MAX_IN_FLIGHT:-0}   nice: $NICE"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other processes share these cores)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "go: $(go version | cut -d' ' -f3)   wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
: >"$tmp/rows"
for rep in $(seq "$REPS"); do
	for route in $ROUTES; do
		echo
		echo "== $route (run $rep/$REPS): $(head -c 160 "$tmp/$route.txt" | cut -c1-100)…"
		echo "\$ wrk -t$THREADS -c$CONNS -d$DUR --latency -s scripts/wrk-rotate.lua $base/$route -- $route.txt"
		load=$(cut -d' ' -f1 /proc/loadavg)
		before=$(cpu_of "$server_pid")
		wbefore=$(children_cpu)
		wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency -s scripts/wrk-rotate.lua "$base/$route" -- "$tmp/$route.txt" | tee "$tmp/wrk.out"
		after=$(cpu_of "$server_pid")
		wafter=$(children_cpu)
		reqs=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
		awk -v a="$after" -v b="$before" -v wa="$wafter" -v wb="$wbefore" -v n="$reqs" 'BEGIN {
			printf "server CPU: %.1f s for %d requests = %.0f us/request; wrk CPU: %.1f s = %.0f us/request\n",
				a - b, n, (a - b) * 1e6 / n, wa - wb, (wa - wb) * 1e6 / n }'
		echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
		# route rps p50 p99 server-us load-before
		awk -v r="$route" -v a="$after" -v b="$before" -v n="$reqs" -v l="$load" '
			function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
			/Requests\/sec/ { rps = $2 } / 50%/ { p50 = ms($2) } / 99%/ { p99 = ms($2) }
			END { printf "%s %.0f %.2f %.2f %.0f %s\n", r, rps, p50, p99, (a - b) * 1e6 / n, l }' "$tmp/wrk.out" >>"$tmp/rows"
	done
done

echo
echo "medians of $REPS runs (mode $MODE, reply cache ${RESPONSE_CACHE:-0}, max-in-flight ${MAX_IN_FLIGHT:-0}, nice $NICE):"
printf "%-10s %9s %9s %9s %14s  %s\n" route "req/s" "p50 ms" "p99 ms" "server us/req" "load averages at start"
for route in $ROUTES; do
	grep "^$route " "$tmp/rows" | awk -v r="$route" '
		function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
		{ n++; rps[n] = $2; p50[n] = $3; p99[n] = $4; cpu[n] = $5; loads = loads (n > 1 ? " " : "") $6 }
		END { printf "%-10s %9.0f %9.2f %9.2f %14.0f  %s\n", r, med(rps, n), med(p50, n), med(p99, n), med(cpu, n), loads }'
done
