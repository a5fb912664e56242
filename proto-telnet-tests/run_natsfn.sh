#!/usr/bin/env bash
# Plays the natsfn transcripts (transcripts/*.txt, or the ones named) against a real sidecar:
#
#   NATSFN_BIN_DIR=build/cli run_natsfn.sh RUNNER [TRANSCRIPT...]
#
# 1. starts a throw-away nats-server with JetStream,
# 2. deploys every function under functions/ with `natsfn deploy` and creates the bindings in
#    functions/bindings.txt with `natsfn bind`,
# 3. starts natsfn-sidecar and waits until every bound subject and every required function's
#    natsfn.invoke.<function> answers a request (probing with the runner itself),
# 4. plays the transcripts, then SIGTERMs the sidecar, which must drain and exit 0.
#
# Binaries: NATSFN_CLI (default $NATSFN_BIN_DIR/natsfn) and NATSFN_SIDECAR (default
# $NATSFN_BIN_DIR/natsfn-sidecar, then $NATSFN_BIN_DIR/../sidecar/natsfn-sidecar).
set -euo pipefail

RUNNER=${1:?usage: run_natsfn.sh RUNNER [TRANSCRIPT...]}
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=nats_server.sh
source "$here/nats_server.sh"

bin_dir=${NATSFN_BIN_DIR:-}
cli=${NATSFN_CLI:-$bin_dir/natsfn}
sidecar=${NATSFN_SIDECAR:-}
if [[ -z "$sidecar" ]]; then
  sidecar=$bin_dir/natsfn-sidecar
  [[ -x "$sidecar" ]] || sidecar=$bin_dir/../sidecar/natsfn-sidecar
fi
for tool in "$cli" "$sidecar"; do
  [[ -x "$tool" ]] || { echo "run_natsfn.sh: $tool is not an executable (set NATSFN_BIN_DIR)" >&2; exit 2; }
done
ready_timeout=${NATSFN_READY_TIMEOUT:-90}

if (($# > 0)); then transcripts=("$@"); else transcripts=("$here"/transcripts/*.txt); fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/proto-telnet-natsfn.XXXXXX")
SIDECAR_PID=""
stop_sidecar() {
  # Prints nothing and returns the sidecar's exit status (143/137 if it had to be killed).
  [[ -n "$SIDECAR_PID" ]] || return 0
  local pid=$SIDECAR_PID status=0
  SIDECAR_PID=""
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 20))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "natsfn-sidecar did not exit within 20 s of SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" || status=$?
  return "$status"
}
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  stop_sidecar || true
  stop_nats_server
  rm -rf "$tmp"
}
trap cleanup EXIT
show_logs() {
  echo "---- natsfn-sidecar log (last 80 lines) ----" >&2
  tail -n 80 "$tmp/sidecar.log" >&2 || true
  echo "---- nats-server log (last 20 lines) ----" >&2
  tail -n 20 "$tmp/nats-server.log" >&2 || true
}

start_nats_server "$tmp"
echo "nats-server on $NATS_URL"

# Deploy copies, so the exec handlers are executable whatever the checkout did to file modes.
cp -R "$here/functions" "$tmp/functions"
chmod +x "$tmp"/functions/*/*.sh
for dir in "$tmp"/functions/*/; do
  echo "deploy $(basename "$dir")"
  "$cli" --server "$NATS_URL" deploy "${dir%/}"
done
# The seed's function is the README's example, deployed exactly as a user would.
echo "deploy examples/hello-node"
"$cli" --server "$NATS_URL" deploy "$here/../examples/hello-node"
declare -a bound_subjects=()
while read -r subject function; do
  [[ -z "$subject" || "$subject" == \#* ]] && continue
  echo "bind $subject -> $function"
  "$cli" --server "$NATS_URL" bind -s "$subject" -f "$function"
  bound_subjects+=("$subject")
done <"$here/functions/bindings.txt"

"$sidecar" --server "$NATS_URL" --cache-dir "$tmp/cache" >"$tmp/sidecar.log" 2>&1 &
SIDECAR_PID=$!

# The sidecar is ready once every subject a transcript uses answers. A request sent before it
# subscribed is simply lost, so each probe is a fresh connection retried until the deadline.
declare -a probe_subjects=("${bound_subjects[@]}")
for function in $("$RUNNER" --print-requires "${transcripts[@]}"); do
  probe_subjects+=("natsfn.invoke.$function")
done
deadline=$((SECONDS + ready_timeout))
for subject in $(printf '%s\n' "${probe_subjects[@]}" | sort -u); do
  cat >"$tmp/probe.txt" <<PROBE
> sub probe.inbox 1
> pub $subject probe.inbox 1
> x
<~ MSG probe.inbox 1 \\d+
<~ [\\s\\S]*
PROBE
  until "$RUNNER" --server "$NATS_HOSTPORT" --timeout-ms 5000 "$tmp/probe.txt" >"$tmp/probe.out" 2>&1; do
    if ! kill -0 "$SIDECAR_PID" 2>/dev/null; then
      echo "natsfn-sidecar exited before $subject answered" >&2
      show_logs
      exit 1
    fi
    if ((SECONDS > deadline)); then
      echo "$subject did not answer within ${ready_timeout} s; last probe:" >&2
      cat "$tmp/probe.out" >&2
      show_logs
      exit 1
    fi
  done
  echo "ready: $subject"
done

export INBOX="_INBOX.telnet.$$"
status=0
"$RUNNER" --server "$NATS_HOSTPORT" "${transcripts[@]}" || status=$?

sidecar_status=0
stop_sidecar || sidecar_status=$?
if ((sidecar_status != 0)); then
  echo "natsfn-sidecar exited with status $sidecar_status after SIGTERM (want 0)" >&2
  status=1
fi
((status == 0)) || show_logs
exit "$status"
