#!/usr/bin/env bash
# HTTP bridge benchmark: wrk against natsfn-http → echo function, and in the same run
# natsfn-bench's direct NATS request/reply to the same function at the same concurrency. Prints
# req/s, p50 and p99 for both, the ratio (HTTP / direct NATS), and natsfn-http's RSS with 1,000
# open idle connections. Goals: ratio >= 0.6 with keep-alive; RSS < 64 MiB at 1,000 connections.
#
# usage: bench/http_bench.sh [BUILD_DIR]
#   BUILD_DIR (default build-http-rel, a -DCMAKE_BUILD_TYPE=Release build) must have targets
#   natsfn natsfn-sidecar natsfn-http natsfn-bench natsfn_example_echo built.
#   Environment: K (concurrency, default 32), DURATION (per run, default 5s), ROUNDS (default 3,
#   median reported), CONNS (default 1000), BRIDGE_FLAGS (extra natsfn-http flags, e.g.
#   --buffered-publish or --no-access-log).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build-http-rel}
K=${K:-32}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-1000}
ROUNDS=${ROUNDS:-3}
for bin in cli/natsfn sidecar/natsfn-sidecar bridge-http/natsfn-http bench/natsfn-bench examples/echo-cpp/echo; do
  [[ -x $build/$bin ]] || { echo "http_bench: $build/$bin not built" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "http_bench: wrk not installed" >&2; exit 1; }
ulimit -n 20000 2>/dev/null || true

tmp=$(mktemp -d)
pids=()
holder_pid=
cleanup() {
  [[ -n $holder_pid ]] && kill "$holder_pid" 2>/dev/null || true
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

wait_for_file() {
  for _ in $(seq 200); do
    [[ -s $1 ]] && return 0
    sleep 0.05
  done
  echo "http_bench: $2 did not start" >&2
  cat "$3" >&2
  exit 1
}

nats-server -a 127.0.0.1 -p -1 -js -sd "$tmp/store" --ports_file_dir "$tmp" >"$tmp/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  ports=$(ls "$tmp"/*.ports 2>/dev/null || true)
  [[ -n $ports ]] && break
  sleep 0.05
done
[[ -n $ports ]] || { echo "http_bench: nats-server did not start" >&2; cat "$tmp/server.log" >&2; exit 1; }
url=$(sed -n 's/.*"nats":\["\([^"]*\)".*/\1/p' "$ports")

"$build/cli/natsfn" --server "$url" deploy "$build/examples/echo-cpp" --warm 2 >/dev/null
"$build/sidecar/natsfn-sidecar" --server "$url" --cache-dir "$tmp/cache" --log-level warn \
  >"$tmp/sidecar.log" 2>&1 &
pids+=($!)
"$build/bridge-http/natsfn-http" --server "$url" --listen 127.0.0.1:0 --port-file "$tmp/port" \
  --default-routes ${BRIDGE_FLAGS:-} >"$tmp/bridge.log" 2>&1 &
bridge_pid=$!
pids+=($bridge_pid)
wait_for_file "$tmp/port" natsfn-http "$tmp/bridge.log"
port=$(cat "$tmp/port")
target="http://127.0.0.1:$port/echo"

# Both paths warm: the function answers over HTTP and over NATS.
for _ in $(seq 200); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' -d x "$target") == 200 ]] && break
  sleep 0.05
done

# Warm-up at the same concurrency, then ROUNDS alternating runs of each path; the median run of
# each is reported (the machine is shared, so single runs are noisy).
"$build/bench/natsfn-bench" --server "$url" request --subject natsfn.invoke.echo --inflight "$K" \
  --duration 1s --payload-size 16 >/dev/null
wrk -t1 -c"$K" -d1s -s "$here/http/post.lua" "$target" >/dev/null
to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v*1000} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000000}}'; }
jq_num() { sed -n "s/.*\"$2\":\([0-9.e+-]*\).*/\1/p" "$1"; }
for r in $(seq "$ROUNDS"); do
  "$build/bench/natsfn-bench" --server "$url" --json request --subject natsfn.invoke.echo \
    --inflight "$K" --duration "$DURATION" --payload-size 16 >"$tmp/nats.json"
  # natsfn-bench prints JSON: rate, p50_us, p99_us.
  echo "$(jq_num "$tmp/nats.json" rate) $(jq_num "$tmp/nats.json" p50_us) $(jq_num "$tmp/nats.json" p99_us)" >>"$tmp/nats.runs"
  wrk -t1 -c"$K" -d"$DURATION" --latency -s "$here/http/post.lua" "$target" >"$tmp/wrk.txt"
  # wrk: "Requests/sec: 12345.67" and, with --latency, "50%  1.23ms" / "99%  4.56ms".
  echo "$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.txt") $(awk '$1 == "50%" {print $2}' "$tmp/wrk.txt" | to_us) $(awk '$1 == "99%" {print $2}' "$tmp/wrk.txt" | to_us)" >>"$tmp/http.runs"
  grep -E 'Non-2xx|Socket errors' "$tmp/wrk.txt" >>"$tmp/wrk.errors" || true
done

# PROFILE=1: CPU time per request of every process on each path (utime+stime from /proc), one
# more run each — where the time goes, on two cores where throughput is CPU per request.
if [[ -n ${PROFILE:-} ]]; then
  ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
  sidecar_pid=${pids[1]}
  server_pid=${pids[0]}
  procs() { echo "$server_pid $sidecar_pid $(pgrep -P "$sidecar_pid" | tr '\n' ' ') $bridge_pid"; }
  hz=$(getconf CLK_TCK)
  profile() {  # profile LABEL COUNT_CMD...: runs the command, prints CPU us per request
    local label=$1; shift
    declare -A t0
    for p in $(procs); do t0[$p]=$(ticks "$p"); done
    local out; out=$(/usr/bin/time -f 'client-cpu %U %S' "$@" 2>&1)
    local client; client=$(awk '/client-cpu/ {print ($2 + $3)}' <<<"$out")
    local n; n=$(awk '/requests in/ {print $1} /"ok":/ {match($0, /"ok":[0-9]+/); print substr($0, RSTART+5, RLENGTH-5)}' <<<"$out" | head -1)
    local server=$(( $(ticks "$server_pid") - t0[$server_pid] )) sidecar=$(( $(ticks "$sidecar_pid") - t0[$sidecar_pid] ))
    local bridge=$(( $(ticks "$bridge_pid") - t0[$bridge_pid] )) workers=0
    for p in $(pgrep -P "$sidecar_pid"); do workers=$(( workers + $(ticks "$p") - ${t0[$p]:-0} )); done
    awk -v l="$label" -v n="$n" -v hz="$hz" -v a="$server" -v b="$sidecar" -v c="$workers" -v d="$bridge" -v e="$client" \
      'BEGIN {f = 1e6 / hz / n; printf "%-22s CPU us/request: client %.1f  nats-server %.1f  sidecar %.1f  workers %.1f  bridge %.1f  (n=%d)\n", l, e*1e6/n, a*f, b*f, c*f, d*f, n}'
  }
  profile "direct NATS request" "$build/bench/natsfn-bench" --server "$url" --json request \
    --subject natsfn.invoke.echo --inflight "$K" --duration "$DURATION" --payload-size 16
  [[ -n ${STRACE_BRIDGE:-} ]] && { timeout -s INT 3 strace -c -f -p "$bridge_pid" -o "$STRACE_BRIDGE" & }
  [[ -n ${PERF_BRIDGE:-} ]] && { perf record -F 4000 -g -p "$bridge_pid" -o "$PERF_BRIDGE" -- sleep 3 >/dev/null 2>&1 & }
  profile "HTTP (wrk keep-alive)" wrk -t1 -c"$K" -d"$DURATION" -s "$here/http/post.lua" "$target"
  [[ -n ${PERF_BRIDGE:-}${STRACE_BRIDGE:-} ]] && sleep 1
fi
median() { sort -n -k1,1 "$1" | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
read -r nats_rate nats_p50 nats_p99 <<<"$(median "$tmp/nats.runs")"
read -r http_rate http_p50 http_p99 <<<"$(median "$tmp/http.runs")"
errors=$(sort -u "$tmp/wrk.errors" 2>/dev/null || true)
rss_after_load=$(awk '/VmHWM/ {print $2}' "/proc/$bridge_pid/status")

# RSS with CONNS idle keep-alive connections held open.
mkfifo "$tmp/hold"
/usr/bin/python3 "$here/http/hold_connections.py" 127.0.0.1 "$port" "$CONNS" <"$tmp/hold" >"$tmp/holder.txt" &
holder_pid=$!
exec 3>"$tmp/hold"
wait_for_file "$tmp/holder.txt" hold_connections "$tmp/bridge.log"
rss_conns=$(awk '/VmRSS/ {print $2}' "/proc/$bridge_pid/status")
held=$(cat "$tmp/holder.txt")
exec 3>&-
wait "$holder_pid" 2>/dev/null || true
holder_pid=

printf 'concurrency K=%s, median of %s runs of %s, 16-byte body, echo function (exec, 2 warm workers), bridge flags: %s\n' \
  "$K" "$ROUNDS" "$DURATION" "${BRIDGE_FLAGS:-(none)}"
printf '%-22s %12s %10s %10s\n' path req/s p50_us p99_us
printf '%-22s %12.0f %10.0f %10.0f\n' "direct NATS request" "$nats_rate" "$nats_p50" "$nats_p99"
printf '%-22s %12.0f %10.0f %10.0f\n' "HTTP (wrk keep-alive)" "$http_rate" "$http_p50" "$http_p99"
ratio=$(awk -v a="$http_rate" -v b="$nats_rate" 'BEGIN {printf "%.2f", a / b}')
met=$(awk -v r="$ratio" 'BEGIN {print (r >= 0.6) ? "MET" : "MISSED"}')
printf 'ratio HTTP/NATS throughput: %s (goal >= 0.60: %s)\n' "$ratio" "$met"
[[ -n $errors ]] && printf 'wrk: %s\n' "$errors"
rss_mib=$(awk -v k="$rss_conns" 'BEGIN {printf "%.1f", k / 1024}')
printf 'natsfn-http RSS with %s (%s): %s MiB (goal < 64: %s); peak after load %.1f MiB\n' \
  "$CONNS" "$held" "$rss_mib" "$(awk -v m="$rss_mib" 'BEGIN {print (m < 64) ? "MET" : "MISSED"}')" \
  "$(awk -v k="$rss_after_load" 'BEGIN {print k / 1024}')"
