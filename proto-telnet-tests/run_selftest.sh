#!/usr/bin/env bash
# Self-test of natsfn-proto-telnet against a bare nats-server (no natsfn needed).
#
#   run_selftest.sh positive RUNNER   every selftest/*.txt must pass
#   run_selftest.sh negative RUNNER   every selftest/negative/*.txt must fail: the runner exits
#                                     with `#! expect-exit:` (default 1) and its report names
#                                     the line given by `#! fails-at:`
set -euo pipefail

mode=${1:?usage: run_selftest.sh positive|negative RUNNER}
RUNNER=${2:?usage: run_selftest.sh positive|negative RUNNER}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=nats_server.sh
source "$here/nats_server.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/proto-telnet-selftest.XXXXXX")
cleanup() {
  stop_nats_server
  rm -rf "$tmp"
}
trap cleanup EXIT

# ping.txt and stale.txt need the server to ping quickly: every 250 ms, stale after 3 misses.
printf 'ping_interval: "250ms"\nping_max: 3\n' >"$tmp/server.conf"
start_nats_server "$tmp" -c "$tmp/server.conf"
echo "nats-server on $NATS_HOSTPORT"

export PROTO_TELNET_SUBJECT="selftest.vars.$$"

if [[ "$mode" == positive ]]; then
  "$RUNNER" --server "$NATS_HOSTPORT" "$here"/selftest/*.txt
  exit $?
fi

[[ "$mode" == negative ]] || { echo "unknown mode $mode" >&2; exit 2; }
failures=0
for transcript in "$here"/selftest/negative/*.txt; do
  name=$(basename "$transcript")
  want_exit=$(sed -n 's/^#! expect-exit: *//p' "$transcript")
  want_exit=${want_exit:-1}
  want_line=$(sed -n 's/^#! fails-at: *//p' "$transcript")
  set +e
  output=$("$RUNNER" --server "$NATS_HOSTPORT" --timeout-ms 1000 "$transcript" 2>&1)
  got_exit=$?
  set -e
  if [[ "$got_exit" != "$want_exit" ]]; then
    echo "NOT OK $name: runner exited $got_exit, expected $want_exit; its output:"
    echo "$output"
    failures=$((failures + 1))
  elif [[ -n "$want_line" && "$output" != *"$transcript:$want_line:"* ]]; then
    echo "NOT OK $name: the report does not name line $want_line; it says:"
    echo "$output"
    failures=$((failures + 1))
  else
    echo "ok $name (exit $got_exit at line $want_line)"
    echo "$output" | sed 's/^/    | /'
  fi
done
if ((failures > 0)); then
  echo "$failures negative transcript(s) did not fail as they should"
  exit 1
fi
