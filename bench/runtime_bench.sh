#!/usr/bin/env bash
# Issue 4's benchmark, in one run on one throwaway nats-server:
#   1. warm throughput at K=1 and K=64: a Node echo function and a Python echo function through
#      the sidecar vs a hand-written nats.js echo service (bench/js-service, what a user would
#      write instead), with their ratios;
#   2. for reference, the C++ echo function through the same sidecar against the same service:
#      the ceiling any runtime can reach through the worker hop (CEILING=0 skips it);
#   3. cold start (no warm worker, package cached) of each runtime vs the bare interpreter
#      start-up (`node -e ''`, `python3 -c ''`).
#
# usage: bench/runtime_bench.sh        (NATSFN_BUILD=<Release build dir>, default build-bench)
# knobs: DURATION=3s ROUNDS=3 KS=1,64 WORKERS=4 COLD_RUNS=20 RUNTIMES="node python" CEILING=1
#        NODE=<node> PYTHON=<python3> (default: node from PATH, /usr/bin/python3)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-3s}
ROUNDS=${ROUNDS:-3}
KS=${KS:-1,64}
WORKERS=${WORKERS:-4}
COLD_RUNS=${COLD_RUNS:-20}
RUNTIMES=${RUNTIMES:-node python}
NODE=${NODE:-$(command -v node)}
PYTHON=${PYTHON:-/usr/bin/python3}
[[ -x $PYTHON ]] || PYTHON=$(command -v python3)
JS_SERVICE=$BENCH_ROOT/bench/js-service

# The baseline's only dependency, installed at bench time (never needed at run time).
if [[ ! -d $JS_SERVICE/node_modules/nats ]]; then
  (cd "$JS_SERVICE" && npm install --no-audit --no-fund --loglevel=error) >&2 ||
    die "npm install in $JS_SERVICE failed"
fi

# Echo functions as a Lambda user writes them. The bench's payload is not JSON, so the event is
# the payload as a string and the returned string is sent back as is.
mkdir -p "$TMP/echo-node" "$TMP/echo-python"
cat >"$TMP/echo-node/index.js" <<'EOF'
exports.handler = async (event) => event;
EOF
echo '{ "name": "echo-node", "runtime": "nodejs20.x", "handler": "index.handler" }' \
  >"$TMP/echo-node/natsfn.json"
cat >"$TMP/echo-python/handler.py" <<'EOF'
def handler(event, context):
    return event
EOF
echo '{ "name": "echo-python", "runtime": "python3", "handler": "handler.handler" }' \
  >"$TMP/echo-python/natsfn.json"

start_nats
machine_line
echo "node: $NODE ($("$NODE" --version)), python: $PYTHON ($("$PYTHON" --version 2>&1))"
echo "server: $URL"
echo

"$NODE" "$JS_SERVICE/echo_service.mjs" "$URL" bench.js.echo >"$TMP/js-service.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 200); do grep -q ready "$TMP/js-service.log" 2>/dev/null && break; sleep 0.05; done
grep -q ready "$TMP/js-service.log" || die "nats.js service did not start: $(cat "$TMP/js-service.log")"

# Idle workers above min_warm leave after 200 ms: the cold-start part needs them gone. The warm
# part keeps min_warm == max_concurrency so none leave while it runs.
start_sidecar rt --idle-ttl-ms 200 --node "$NODE" --python "$PYTHON"
RT_SIDECAR=$SIDECAR_PID

status=0
for rt in $RUNTIMES; do
  echo "== warm echo: $rt function ($WORKERS warm workers) vs nats.js echo service =="
  fn deploy "$TMP/echo-$rt" --warm "$WORKERS" --concurrency "$WORKERS" --queue 1000 >/dev/null
  if ! "$BENCH" --server "$URL" cold --subject "natsfn.invoke.echo-$rt" --runs 1 \
    --timeout-ms 30000 --verify >/dev/null; then
    echo "$rt echo function does not answer correctly; sidecar log tail:"
    tail -5 "$TMP/sidecar-rt.log"
    status=1
    echo
    continue
  fi
  "$BENCH" --server "$URL" compare --function-subject "natsfn.invoke.echo-$rt" \
    --function-label "$rt function" --baseline-subject bench.js.echo \
    --baseline-label "nats.js service" --k "$KS" --duration "$DURATION" --rounds "$ROUNDS" \
    --goal 1:0.8 --goal 64:0.8 || status=1
  fn fn rm "echo-$rt" >/dev/null
  echo
done

# The ceiling for any runtime: the C++ echo (exec, C++ SDK; a worker doing almost nothing) through
# the same sidecar with the same number of workers, against the same nats.js service. No goal: it
# shows what the sidecar hop itself allows on this machine.
if [[ ${CEILING:-1} == 1 && -x $BUILD/examples/echo-cpp/echo ]]; then
  echo "== reference: C++ echo function (exec, $WORKERS warm workers) vs nats.js echo service =="
  fn deploy "$BUILD/examples/echo-cpp" --name echo-exec --warm "$WORKERS" --concurrency "$WORKERS" \
    --queue 1000 >/dev/null
  "$BENCH" --server "$URL" cold --subject natsfn.invoke.echo-exec --runs 1 --timeout-ms 30000 \
    --verify >/dev/null || die "the C++ echo function does not answer"
  "$BENCH" --server "$URL" compare --function-subject natsfn.invoke.echo-exec \
    --function-label "C++ echo function" --baseline-subject bench.js.echo \
    --baseline-label "nats.js service" --k "$KS" --duration "$DURATION" --rounds "$ROUNDS"
  fn fn rm echo-exec >/dev/null
  echo
fi

printf '== cold start (no warm worker, package cached) vs bare interpreter start-up ==\n'
for rt in $RUNTIMES; do
  fn deploy "$TMP/echo-$rt" --name "cold-$rt" --warm 0 >/dev/null
  # Priming extracts the package; the measured runs find it in the cache.
  if ! "$BENCH" --server "$URL" cold --subject "natsfn.invoke.cold-$rt" --runs 1 \
    --timeout-ms 30000 --verify >/dev/null; then
    echo "$rt: cold-$rt does not answer; skipped"
    status=1
    continue
  fi
  cold=$("$BENCH" --server "$URL" --json cold --subject "natsfn.invoke.cold-$rt" \
    --runs "$COLD_RUNS" --sidecar-pid "$RT_SIDECAR" --verify)
  if [[ $rt == node ]]; then
    bare=$("$BENCH" --json spawn --runs "$COLD_RUNS" -- "$NODE" -e '')
    bare_label="node -e ''"
  else
    bare=$("$BENCH" --json spawn --runs "$COLD_RUNS" -- "$PYTHON" -c '')
    bare_label="$(basename "$PYTHON") -c ''"
  fi
  cold_p50=$(json_field "$cold" p50_us)
  bare_p50=$(json_field "$bare" p50_us)
  over=$(bc -l <<<"($cold_p50 - $bare_p50)/1000")
  printf '%-8s cold start p50 %7.2f ms (p90 %7.2f, n=%s, cold=%s, failed=%s)   %-16s p50 %7.2f ms   overhead %+.2f ms (goal <= +15 ms: %s)\n' \
    "$rt" "$(bc -l <<<"$cold_p50/1000")" "$(bc -l <<<"$(json_field "$cold" p90_us)/1000")" \
    "$(json_field "$cold" ok)" "$(json_field "$cold" cold)" "$(json_field "$cold" failed)" \
    "$bare_label" "$(bc -l <<<"$bare_p50/1000")" "$over" \
    "$( (($(printf '%.0f' "$over") <= 15)) && echo MET || echo MISSED)"
done
exit $status
