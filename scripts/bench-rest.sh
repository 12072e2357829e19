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
#     writing; -1: plain net/http scheduling, no gate).
#   NICE=-20: give the benchmark's own process group (server, wrk, this script) that priority
#     against everything else on the machine. The kernel groups tasks by session (autogroup), so
#     plain `nice` changes nothing against other sessions' jobs; we start a new session and set
#     its autogroup's nice. Server and wrk stay equal among themselves.
#   ROUTES="receipt": the routes to time (default: totalData cycleinfo receipt).
#   FLOOR=nginx: also time nginx serving each route's reply (the bytes our server sent for the
#     route's first body) as a static file with sendfile(2), with the same wrk and the same signed
#     requests, in turn with ours: what it costs this machine just to move these replies to wrk.
#     Its rows are named nginx-<route>; "server us/req" is then nginx's workers' CPU.
#   ALT_ARGS="-max-in-flight=-1": also time a second server started with these flags, in turn
#     with the first (rows alt-<route>): an A/B in one run, on the same machine minute by minute.
#     Besides the server's options, restserver has -gomaxprocs for such A/Bs.
#   ALT_ENV="GOGC=400": the second server's environment has these variables too (the runtime's
#     settings, e.g. GOGC, GOMEMLIMIT, GODEBUG); alone, it starts the second server as the first.
#   ALT_REV=<commit>: the second server is scripts/restserver built at that commit (from a
#     temporary git worktree), started with ALT_ARGS if any: an A/B between two versions.
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
server_pids=""
nginx_pid=""
cleanup() {
	for p in $server_pids; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; fi
	if [ -d "$tmp/alt-src" ]; then git worktree remove --force "$tmp/alt-src" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/restserver" ./scripts/restserver
go build -o "$tmp/restbodies" ./scripts/restbodies
alt_bin=$tmp/restserver
if [ -n "${ALT_REV:-}" ]; then
	git worktree add -q --detach "$tmp/alt-src" "$ALT_REV"
	(cd "$tmp/alt-src" && go build -o "$tmp/restserver-alt" ./scripts/restserver)
	git worktree remove --force "$tmp/alt-src"
	alt_bin=$tmp/restserver-alt
fi
"$tmp/restbodies" -out "$tmp" -n "$N" -mode "$MODE"
db=testdata/archiver-db
if [ "$MODE" = distinct ]; then
	db=$tmp/archive
	go run ./dbstore/gen -out "$db" -cycles $((N + 100))
fi

args=(-db "$db" -response-cache "${RESPONSE_CACHE:-0}" -max-in-flight "${MAX_IN_FLIGHT:-0}")
[ -n "${CPUPROFILE:-}" ] && args+=(-cpuprofile "$CPUPROFILE")
# start_server NAME BINARY [FLAG...] starts a restserver with args and the flags given, checks
# every reply it gives (which also fills its caches), and sets started_pid and started_base.
start_server() {
	local name=$1 bin=$2 addr
	shift 2
	# shellcheck disable=SC2086 # a list of NAME=VALUE
	env ${start_env:-} "$bin" "${args[@]}" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	started_pid=$!
	server_pids="$server_pids $started_pid"
	for _ in $(seq 300); do
		grep -q "listening on" "$tmp/$name.out" 2>/dev/null && break
		sleep 0.1
	done
	addr=$(sed -n 's/^listening on //p' "$tmp/$name.out")
	[ -n "$addr" ] || { cat "$tmp/$name.err"; exit 1; }
	started_base="http://$addr"
	# Every reply must be a signed success before we time anything.
	"$tmp/restbodies" -out "$tmp" -check "$started_base"
}
start_server server "$tmp/restserver"
server_pid=$started_pid base=$started_base
targets=ours
if [ -n "${ALT_ARGS:-}${ALT_REV:-}${ALT_ENV:-}" ]; then
	# shellcheck disable=SC2086 # a list of flags
	start_env=${ALT_ENV:-} start_server alt "$alt_bin" ${ALT_ARGS:-}
	alt_pid=$started_pid alt_base=$started_base
	targets="$targets alt"
	echo "alt: a second server (${ALT_REV:+built at $ALT_REV }${ALT_ARGS:+flags $ALT_ARGS }${ALT_ENV:+environment $ALT_ENV}), timed in turn with the first"
fi

# start_nginx serves $tmp/www/<route> (each route's first reply) on a free port: nginx_pid, nginx_base.
start_nginx() {
	command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx >/dev/null; }
	command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
	chmod 755 "$tmp" # nginx's workers run as nobody when we are root
	mkdir -p "$tmp/www"
	for route in $ROUTES; do
		head -n1 "$tmp/$route.txt" | curl -sf -H 'Content-Type: application/json' --data-binary @- -o "$tmp/www/$route" "$base/$route"
	done
	local port first
	first=$(echo "$ROUTES" | cut -d' ' -f1)
	for _ in $(seq 20); do
		port=$((20000 + RANDOM % 40000))
		cat >"$tmp/nginx.conf" <<-EOF
			worker_processes 2;
			pid $tmp/nginx.pid;
			error_log $tmp/nginx.err;
			events { worker_connections 1024; }
			http {
			  access_log off;
			  client_body_temp_path $tmp/nginx-body;
			  proxy_temp_path $tmp/nginx-proxy;
			  fastcgi_temp_path $tmp/nginx-fastcgi;
			  uwsgi_temp_path $tmp/nginx-uwsgi;
			  scgi_temp_path $tmp/nginx-scgi;
			  sendfile on;
			  tcp_nopush on;
			  keepalive_requests 100000000;
			  keepalive_timeout 600;
			  server {
			    listen 127.0.0.1:$port;
			    root $tmp/www;
			    default_type "application/json; charset=utf-8";
			    # the static module answers POST with 405; this serves the file instead
			    location / { error_page 405 =200 \$uri; }
			  }
			}
		EOF
		nginx -c "$tmp/nginx.conf" -g 'daemon off;' 2>>"$tmp/nginx.err" &
		nginx_pid=$!
		for _ in $(seq 50); do
			kill -0 "$nginx_pid" 2>/dev/null || break
			if head -n1 "$tmp/$first.txt" | curl -sf -o "$tmp/nginx.check" --data-binary @- "http://127.0.0.1:$port/$first" &&
				cmp -s "$tmp/nginx.check" "$tmp/www/$first"; then
				nginx_base="http://127.0.0.1:$port"
				return
			fi
			sleep 0.1
		done
		kill "$nginx_pid" 2>/dev/null || true
		wait "$nginx_pid" 2>/dev/null || true
		nginx_pid=""
	done
	cat "$tmp/nginx.err"
	exit 1
}
if [ "${FLOOR:-}" = nginx ]; then
	start_nginx
	targets="$targets nginx"
	echo "floor: nginx $(nginx -v 2>&1 | cut -d/ -f2) at $nginx_base serves each route's reply as a file"
elif [ -n "${FLOOR:-}" ]; then
	echo "FLOOR=$FLOOR: want nginx" >&2
	exit 2
fi

# CPU seconds (user+system) so far of the processes given (nginx: master and workers), and of this
# script's waited-for children (wrk).
hz=$(getconf CLK_TCK)
cpu_of() {
	local p t=0
	for p in "$@"; do t=$(awk -v hz="$hz" -v t="$t" '{ printf "%.3f", t + ($14 + $15) / hz }' "/proc/$p/stat"); done
	echo "$t"
}
children_cpu() { awk -v hz="$hz" '{ printf "%.3f", ($16 + $17) / hz }' /proc/$$/stat; }

echo "mode: $MODE ($N distinct signed bodies per route; archive $db)   reply cache: ${RESPONSE_CACHE:-0}   max-in-flight: ${MAX_IN_FLIGHT:-0}   nice: $NICE"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other processes share these cores)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "go: $(go version | cut -d' ' -f3)   wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
: >"$tmp/rows"
for rep in $(seq "$REPS"); do
	for route in $ROUTES; do
	for target in $targets; do
		if [ "$target" = nginx ]; then
			name=nginx-$route url=$nginx_base/$route
			pids="$nginx_pid $(pgrep -P "$nginx_pid" | tr '\n' ' ')"
		elif [ "$target" = alt ]; then
			name=alt-$route url=$alt_base/$route pids=$alt_pid
		else
			name=$route url=$base/$route pids=$server_pid
		fi
		echo
		echo "== $name (run $rep/$REPS): $(head -c 160 "$tmp/$route.txt" | cut -c1-100)…"
		echo "\$ wrk -t$THREADS -c$CONNS -d$DUR --latency -s scripts/wrk-rotate.lua $url -- $route.txt"
		load=$(cut -d' ' -f1 /proc/loadavg)
		# shellcheck disable=SC2086 # pids is a list
		before=$(cpu_of $pids)
		wbefore=$(children_cpu)
		wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency -s scripts/wrk-rotate.lua "$url" -- "$tmp/$route.txt" | tee "$tmp/wrk.out"
		# shellcheck disable=SC2086
		after=$(cpu_of $pids)
		wafter=$(children_cpu)
		reqs=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
		awk -v a="$after" -v b="$before" -v wa="$wafter" -v wb="$wbefore" -v n="$reqs" 'BEGIN {
			printf "server CPU: %.1f s for %d requests = %.0f us/request; wrk CPU: %.1f s = %.0f us/request\n",
				a - b, n, (a - b) * 1e6 / n, wa - wb, (wa - wb) * 1e6 / n }'
		echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
		# route rps p50 p99 server-us load-before
		awk -v r="$name" -v a="$after" -v b="$before" -v n="$reqs" -v l="$load" '
			function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
			/Requests\/sec/ { rps = $2 } / 50%/ { p50 = ms($2) } / 99%/ { p99 = ms($2) }
			END { printf "%s %.0f %.2f %.2f %.0f %s\n", r, rps, p50, p99, (a - b) * 1e6 / n, l }' "$tmp/wrk.out" >>"$tmp/rows"
	done
	done
done

echo
echo "medians of $REPS runs (mode $MODE, reply cache ${RESPONSE_CACHE:-0}, max-in-flight ${MAX_IN_FLIGHT:-0}, nice $NICE):"
printf "%-14s %9s %9s %9s %14s  %s\n" route "req/s" "p50 ms" "p99 ms" "server us/req" "load averages at start"
names=$ROUTES
for target in $targets; do
	[ "$target" = ours ] || for route in $ROUTES; do names="$names $target-$route"; done
done
for route in $names; do
	grep "^$route " "$tmp/rows" | awk -v r="$route" '
		function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
		{ n++; rps[n] = $2; p50[n] = $3; p99[n] = $4; cpu[n] = $5; loads = loads (n > 1 ? " " : "") $6 }
		END { printf "%-14s %9.0f %9.2f %9.2f %14.0f  %s\n", r, med(rps, n), med(p50, n), med(p99, n), med(cpu, n), loads }'
done
