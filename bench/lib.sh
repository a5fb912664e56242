# Shared by bench/sidecar_bench.sh and bench/runtime_bench.sh (sourced, not run): a throwaway
# nats-server, sidecars, and waiting on them. Every process started here is killed on exit.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${NATSFN_BUILD:-$BENCH_ROOT/build-bench}
BENCH=$BUILD/bench/natsfn-bench
SIDECAR=$BUILD/sidecar/natsfn-sidecar
CLI=$BUILD/cli/natsfn

for bin in "$BENCH" "$SIDECAR" "$CLI"; do
  if [[ ! -x $bin ]]; then
    echo "missing $bin; build it first:" >&2
    echo "  cmake -S $BENCH_ROOT -B $BUILD -DCMAKE_BUILD_TYPE=Release -DNATSFN_TESTS=OFF" >&2
    echo "  make -C $BUILD -j2 natsfn natsfn-sidecar natsfn-bench natsfn_example_echo natsfn_example_hello" >&2
    exit 1
  fi
done

TMP=$(mktemp -d /tmp/natsfn-bench.XXXXXX)
PIDS=()

cleanup() {
  local pid
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n ${KEEP_TMP:-} ]]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  echo "bench: $*" >&2
  exit 1
}

# Starts nats-server with JetStream on free ports; sets URL and MONITOR.
start_nats() {
  nats-server -js -sd "$TMP/js" -a 127.0.0.1 -p -1 -m -1 --ports_file_dir "$TMP" \
    -l "$TMP/nats-server.log" &
  NATS_PID=$!
  PIDS+=("$NATS_PID")
  local ports="$TMP/nats-server_$NATS_PID.ports"
  for _ in $(seq 100); do [[ -s $ports ]] && break; sleep 0.05; done
  [[ -s $ports ]] || die "nats-server did not start: $(tail -5 "$TMP/nats-server.log")"
  URL=$(jq -r '.nats[0]' "$ports")
  MONITOR=$(jq -r '.monitoring[0]' "$ports")
}

# start_sidecar NAME [flags...]: a sidecar with its own cache dir and log; sets SIDECAR_PID.
# SIDECAR_FLAGS (split on spaces) go to every sidecar, for A/B runs of an option.
# SIDECAR_CPUS pins sidecars (and so their workers) with taskset, e.g. SIDECAR_CPUS=0.
start_sidecar() {
  local name=$1
  shift
  local pin=()
  [[ -n ${SIDECAR_CPUS:-} ]] && pin=(taskset -c "$SIDECAR_CPUS")
  # shellcheck disable=SC2086
  "${pin[@]}" "$SIDECAR" --server "$URL" --cache-dir "$TMP/cache-$name" --log-level warn ${SIDECAR_FLAGS:-} "$@" \
    >"$TMP/sidecar-$name.log" 2>&1 &
  SIDECAR_PID=$!
  PIDS+=("$SIDECAR_PID")
}

# stop_sidecar PID: SIGTERM and wait for it (it drains and stops its workers).
stop_sidecar() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

fn() { "$CLI" --server "$URL" "$@"; }

# wait_responds SUBJECT: one request, retried while nobody is subscribed yet.
wait_responds() {
  "$BENCH" --server "$URL" cold --subject "$1" --runs 1 --timeout-ms 30000 >/dev/null ||
    die "$1 does not answer"
}

# wait_subscriptions PREFIX N: until the server holds at least N subscriptions starting with
# PREFIX (without sending a request, which would start a worker).
wait_subscriptions() {
  local prefix=$1 want=$2 have=0
  for _ in $(seq 600); do
    have=$(curl -s "$MONITOR/connz?subs=1&limit=1000" |
      jq --arg p "$prefix" '[.connections[].subscriptions_list // [] | .[] | select(startswith($p))] | length')
    ((have >= want)) && return 0
    sleep 0.1
  done
  die "only $have of $want subscriptions on $prefix*"
}

# rss_kib PID: VmRSS in KiB.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
threads_of() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }

# json_field JSON FIELD: a number from natsfn-bench --json output.
json_field() { jq -r ".$2" <<<"$1"; }

machine_line() {
  echo "machine: $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)," \
    "$(nats-server --version)"
}
