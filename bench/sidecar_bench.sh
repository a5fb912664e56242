#!/usr/bin/env bash
# Issue 3's benchmark, in one run on one throwaway nats-server:
#   1. warm throughput: a raw nats.c echo responder vs the C++ `echo` function through the sidecar,
#      sequential (K=1) and with K=64 requests in flight, with their ratios;
#   2. sidecar RSS with 200 functions bound and none warm;
#   3. exec cold start (no warm worker), package cached and uncached, against spawning /bin/true.
#
# usage: bench/sidecar_bench.sh        (NATSFN_BUILD=<Release build dir>, default build-bench)
# knobs: DURATION=3s ROUNDS=3 KS=1,64 CONCURRENCY=64 WARM=2 COLD_RUNS=20 RSS_FUNCTIONS=200
#        EXTRA_FUNCTIONS=0 (that many more functions, bound and idle, during the warm runs)
#        PARTS="warm rss cold" (a subset runs only those parts)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-3s}
ROUNDS=${ROUNDS:-3}
KS=${KS:-1,64}
CONCURRENCY=${CONCURRENCY:-64}
WARM=${WARM:-2}
COLD_RUNS=${COLD_RUNS:-20}
RSS_FUNCTIONS=${RSS_FUNCTIONS:-200}
EXTRA_FUNCTIONS=${EXTRA_FUNCTIONS:-0}
PARTS=" ${PARTS:-warm rss cold} "
ECHO_PKG=$BUILD/examples/echo-cpp
[[ -x $ECHO_PKG/echo ]] || die "missing $ECHO_PKG/echo (make natsfn_example_echo)"

start_nats
machine_line
echo "server: $URL"
echo

# --- 1. warm throughput ------------------------------------------------------------------------
if [[ $PARTS == *" warm "* ]]; then
echo "== warm echo: raw nats.c responder vs echo function (exec, C++ SDK) =="
start_sidecar warm
WARM_SIDECAR=$SIDECAR_PID
fn deploy "$ECHO_PKG" --warm "$WARM" --concurrency "$CONCURRENCY" --queue 1000 >/dev/null
fn bind -s bench.fn.echo -f echo >/dev/null
wait_responds bench.fn.echo
if ((EXTRA_FUNCTIONS > 0)); then
  # Idle neighbours: the sidecar holds two subscriptions for each; none should cost the echo.
  "$BENCH" --server "$URL" catalogue-fill --from echo --count "$EXTRA_FUNCTIONS" \
    --name-prefix idle- --bind-prefix bench.idle. >/dev/null
  wait_subscriptions bench.idle. "$EXTRA_FUNCTIONS"
  wait_subscriptions natsfn.invoke.idle- "$EXTRA_FUNCTIONS"
  echo "with $EXTRA_FUNCTIONS more functions bound and idle"
fi
"$BENCH" --server "$URL" compare --function-subject bench.fn.echo --function-label "echo function" \
  --k "$KS" --duration "$DURATION" --rounds "$ROUNDS" --goal 1:0.75 --goal 64:0.6
echo "workers of the warm sidecar after the run: $(pgrep -c -P "$WARM_SIDECAR" || true)"
echo
echo "== floors =="
"$BENCH" rtt --runs 20000
stop_sidecar "$WARM_SIDECAR"
# The remaining sidecar must not keep standby echo workers: they would never leave.
fn unbind -s bench.fn.echo >/dev/null
fn fn rm echo >/dev/null
echo
fi

# --- 2. RSS with many functions bound, none warm -----------------------------------------------
if [[ $PARTS == *" rss "* || $PARTS == *" cold "* ]]; then
echo "== sidecar RSS with $RSS_FUNCTIONS functions bound, none warm =="
fn deploy "$ECHO_PKG" --name cold-cached --warm 0 >/dev/null
"$BENCH" --server "$URL" catalogue-fill --from cold-cached --count "$RSS_FUNCTIONS" \
  --name-prefix rss- --bind-prefix bench.rss. >/dev/null
start_sidecar cold --idle-ttl-ms 200
COLD_SIDECAR=$SIDECAR_PID
wait_subscriptions bench.rss. "$RSS_FUNCTIONS"
wait_subscriptions natsfn.invoke.rss- "$RSS_FUNCTIONS"
sleep 1  # let start-up allocations settle; nothing else is happening
rss=$(rss_kib "$COLD_SIDECAR")
printf 'VmRSS %.1f MiB (VmHWM %.1f MiB, %s threads, %s workers) with %s functions + bindings  (goal <= 40 MiB: %s)\n' \
  "$(bc -l <<<"$rss/1024")" "$(bc -l <<<"$(hwm_kib "$COLD_SIDECAR")/1024")" \
  "$(threads_of "$COLD_SIDECAR")" "$(pgrep -c -P "$COLD_SIDECAR" || true)" "$RSS_FUNCTIONS" \
  "$( ((rss <= 40 * 1024)) && echo MET || echo MISSED)"
echo
fi
[[ $PARTS == *" cold "* ]] || exit 0

# --- 3. cold start ------------------------------------------------------------------------------
echo "== exec cold start (no warm worker; idle TTL 200 ms, waiting for workers to leave) =="
# Priming fetches and extracts the package once; later runs find it in the cache.
wait_responds natsfn.invoke.cold-cached
cached=$("$BENCH" --server "$URL" --json cold --subject natsfn.invoke.cold-cached \
  --runs "$COLD_RUNS" --sidecar-pid "$COLD_SIDECAR" --verify)
# Uncached: every run gets a function with a package of its own (a new digest), never fetched.
for i in $(seq 0 $((COLD_RUNS - 1))); do
  mkdir -p "$TMP/pkg-u$i"
  cp "$ECHO_PKG/echo" "$ECHO_PKG/natsfn.json" "$TMP/pkg-u$i/"
  echo "$i $RANDOM" >"$TMP/pkg-u$i/nonce"
  fn deploy "$TMP/pkg-u$i" --name "cold-u$i" --warm 0 >/dev/null
done
wait_subscriptions natsfn.invoke.cold-u "$COLD_RUNS"
uncached=$("$BENCH" --server "$URL" --json cold --subject 'natsfn.invoke.cold-u{i}' \
  --runs "$COLD_RUNS" --sidecar-pid "$COLD_SIDECAR" --verify)
spawn=$("$BENCH" --json spawn --runs 500 -- /bin/true)
pkg_kib=$(du -k "$ECHO_PKG/echo" | cut -f1)
printf '%-34s p50 %7.2f ms  p90 %7.2f ms  mean %7.2f ms  (n=%s, cold=%s, failed=%s)\n' \
  "cached package" "$(bc -l <<<"$(json_field "$cached" p50_us)/1000")" \
  "$(bc -l <<<"$(json_field "$cached" p90_us)/1000")" \
  "$(bc -l <<<"$(json_field "$cached" mean_us)/1000")" \
  "$(json_field "$cached" ok)" "$(json_field "$cached" cold)" "$(json_field "$cached" failed)"
printf '%-34s p50 %7.2f ms  p90 %7.2f ms  mean %7.2f ms  (n=%s, cold=%s, failed=%s)\n' \
  "uncached package (${pkg_kib} KiB)" "$(bc -l <<<"$(json_field "$uncached" p50_us)/1000")" \
  "$(bc -l <<<"$(json_field "$uncached" p90_us)/1000")" \
  "$(bc -l <<<"$(json_field "$uncached" mean_us)/1000")" \
  "$(json_field "$uncached" ok)" "$(json_field "$uncached" cold)" "$(json_field "$uncached" failed)"
printf '%-34s p50 %7.2f ms  p90 %7.2f ms  mean %7.2f ms  (n=%s)\n' "posix_spawn /bin/true + wait" \
  "$(bc -l <<<"$(json_field "$spawn" p50_us)/1000")" \
  "$(bc -l <<<"$(json_field "$spawn" p90_us)/1000")" \
  "$(bc -l <<<"$(json_field "$spawn" mean_us)/1000")" "$(json_field "$spawn" ok)"
cached_p50=$(json_field "$cached" p50_us)
printf 'cached cold start p50 / spawn p50: %.1fx   (goal: cached p50 <= 5 ms: %s)\n' \
  "$(bc -l <<<"$cached_p50/$(json_field "$spawn" p50_us)")" \
  "$( (($(printf '%.0f' "$cached_p50") <= 5000)) && echo MET || echo MISSED)"
printf 'sidecar VmRSS after the cold runs: %.1f MiB\n' "$(bc -l <<<"$(rss_kib "$COLD_SIDECAR")/1024")"
