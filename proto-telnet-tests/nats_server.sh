# shellcheck shell=bash
# Sourced by run_selftest.sh and run_natsfn.sh: a throw-away nats-server on a free port.
#
#   start_nats_server DIR [extra nats-server args...]
#
# starts `nats-server -a 127.0.0.1 -p -1 --ports_file_dir DIR -js -sd DIR/js`, waits until the
# ports file names its client port and the server answers PING, and sets NATS_PID, NATS_PORT,
# NATS_HOSTPORT (127.0.0.1:PORT) and NATS_URL (nats://127.0.0.1:PORT). The caller's EXIT trap
# should call stop_nats_server. Needs RUNNER (the natsfn-proto-telnet binary) to probe.

NATS_PID=""

start_nats_server() {
  local dir=$1
  shift
  nats-server -a 127.0.0.1 -p -1 --ports_file_dir "$dir" -js -sd "$dir/js" "$@" \
    >"$dir/nats-server.log" 2>&1 &
  NATS_PID=$!
  local ports_file="$dir/nats-server_${NATS_PID}.ports"
  local deadline=$((SECONDS + 20))
  NATS_PORT=""
  while [[ -z "$NATS_PORT" ]]; do
    if ! kill -0 "$NATS_PID" 2>/dev/null; then
      echo "nats-server exited at start-up; its log:" >&2
      cat "$dir/nats-server.log" >&2
      return 1
    fi
    if ((SECONDS > deadline)); then
      echo "nats-server wrote no ports file within 20 s; its log:" >&2
      cat "$dir/nats-server.log" >&2
      return 1
    fi
    if [[ -s "$ports_file" ]]; then
      # {"nats":["nats://127.0.0.1:PORT"],...}
      NATS_PORT=$(grep -o '"nats://[^"]*"' "$ports_file" | head -n 1 | sed 's/.*:\([0-9]*\)"$/\1/')
    fi
    [[ -n "$NATS_PORT" ]] || sleep 0.05
  done
  NATS_HOSTPORT="127.0.0.1:$NATS_PORT"
  # shellcheck disable=SC2034  # used by the scripts that source this file
  NATS_URL="nats://$NATS_HOSTPORT"

  # The ports file is written once the listener is up; a PING round trip proves it serves.
  printf '> PING\n< PONG\n' >"$dir/ready.txt"
  until "$RUNNER" --server "$NATS_HOSTPORT" --timeout-ms 1000 "$dir/ready.txt" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      echo "nats-server on $NATS_HOSTPORT does not answer PING; its log:" >&2
      cat "$dir/nats-server.log" >&2
      return 1
    fi
    sleep 0.05
  done
}

stop_nats_server() {
  [[ -n "$NATS_PID" ]] || return 0
  kill -TERM "$NATS_PID" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while kill -0 "$NATS_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
  kill -KILL "$NATS_PID" 2>/dev/null || true
  wait "$NATS_PID" 2>/dev/null || true
  NATS_PID=""
}
