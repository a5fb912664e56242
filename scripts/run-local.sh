#!/usr/bin/env bash
# The main job on the local default: installs and builds natsfn, starts a local nats-server with
# JetStream on 127.0.0.1:4222 (unless one is already there), starts natsfn-sidecar, deploys the
# seed's function (examples/hello-node as "myfunction"), binds myfunction.lambda and invokes it.
# Then it keeps serving until Ctrl-C, so the seed's telnet session works:
#   telnet localhost 4222 / sub reply-box 200 / pub myfunction.lambda reply-box 0 / (empty line)
# With --once it stops after the invocation (used by CI as a smoke test).
set -euo pipefail
cd "$(dirname "$0")/.."
once=0
[ "${1:-}" = "--once" ] && once=1

scripts/install-deps.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNATSFN_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target natsfn natsfn-sidecar natsfn-http natsfn_runtimes 2>&1 | tail -n 3

export NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
state=${NATSFN_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/natsfn}
mkdir -p "$state"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

port_open() { (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; }
if ! port_open; then
  echo "starting nats-server -js on 127.0.0.1:4222 (store $state/jetstream)"
  nats-server -js -a 127.0.0.1 -p 4222 -sd "$state/jetstream" >"$state/nats-server.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do port_open && break; sleep 0.1; done
  port_open || { echo "nats-server did not start:"; cat "$state/nats-server.log"; exit 1; }
fi

echo "starting natsfn-sidecar (log $state/sidecar.log)"
build-release/sidecar/natsfn-sidecar --cache-dir "$state/cache" >"$state/sidecar.log" 2>&1 &
pids+=($!)

build-release/cli/natsfn deploy examples/hello-node
build-release/cli/natsfn bind -s myfunction.lambda -f myfunction
echo "invoking myfunction:"
for _ in $(seq 50); do
  if out=$(build-release/cli/natsfn invoke myfunction --timeout 2s 2>/dev/null); then break; fi
  sleep 0.2
done
echo "  -> ${out:-no reply}"
[ "${out:-}" = "hello" ] || { echo "unexpected reply; sidecar log:"; tail -n 30 "$state/sidecar.log"; exit 1; }

if [ $once = 1 ]; then exit 0; fi
cat <<TXT

natsfn is serving myfunction on myfunction.lambda. Try the 2016 session:
  telnet localhost 4222
  sub reply-box 200
  pub myfunction.lambda reply-box 0
  (empty line)
Ctrl-C stops the sidecar (and the nats-server this script started).
TXT
wait "${pids[-1]}"
