#!/usr/bin/env bash
# Object Store benchmark: natsfn (C++) against nats.js v2 on one throwaway nats-server in the same
# run. Each client puts a SIZE_MIB random file and gets it back; prints MiB/s for both, the
# natsfn/nats.js ratio, and natsfn's peak RSS.
#
# usage: bench/os_bench.sh [BUILD_DIR] [SIZE_MIB]
#   BUILD_DIR defaults to build-objstore-rel (configure it with -DCMAKE_BUILD_TYPE=Release and
#   build target natsfn-bench-os); SIZE_MIB defaults to 64.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build-objstore-rel}
size=${2:-64}
bin=$build/bench/natsfn-bench-os
[[ -x $bin ]] || { echo "os_bench: $bin not built (make -C $build natsfn-bench-os)" >&2; exit 1; }

if [[ ! -d $here/js/node_modules/nats ]]; then
  npm ci --prefix "$here/js" --no-audit --no-fund >/dev/null
fi

tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

nats-server -a 127.0.0.1 -p -1 -js -sd "$tmp/store" --ports_file_dir "$tmp" >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  ports=$(ls "$tmp"/*.ports 2>/dev/null || true)
  [[ -n $ports ]] && break
  sleep 0.05
done
[[ -n $ports ]] || { echo "os_bench: nats-server did not start" >&2; cat "$tmp/server.log" >&2; exit 1; }
url=$(sed -n 's/.*"nats":\["\([^"]*\)".*/\1/p' "$ports")

head -c "$((size * 1024 * 1024))" /dev/urandom >"$tmp/object.bin"

"$bin" --server "$url" --bucket bench_natsfn --file "$tmp/object.bin" >"$tmp/natsfn.txt"
node "$here/js/os_bench.mjs" "$url" bench_js bench-object "$tmp/object.bin" >"$tmp/js.txt"

val() { sed -n "s/^$2=//p" "$1"; }
digest_ok=$([[ $(val "$tmp/natsfn.txt" digest) == $(val "$tmp/js.txt" digest) ]] && echo yes || echo NO)
printf '%-8s %10s %10s %12s\n' client put_MiB/s get_MiB/s peak_RSS_MiB
for f in natsfn js; do
  printf '%-8s %10s %10s %12s\n' "$(val "$tmp/$f.txt" client)" "$(val "$tmp/$f.txt" put_mibps)" \
    "$(val "$tmp/$f.txt" get_mibps)" "$(awk "BEGIN{printf \"%.1f\", $(val "$tmp/$f.txt" maxrss_kib)/1024}")"
done
awk -v np="$(val "$tmp/natsfn.txt" put_mibps)" -v jp="$(val "$tmp/js.txt" put_mibps)" \
    -v ng="$(val "$tmp/natsfn.txt" get_mibps)" -v jg="$(val "$tmp/js.txt" get_mibps)" \
    'BEGIN { printf "ratio natsfn/nats.js: put %.2fx, get %.2fx\n", np/jp, ng/jg }'
echo "object: ${size} MiB, same digest from both clients: $digest_ok"
