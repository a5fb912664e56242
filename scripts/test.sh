#!/usr/bin/env bash
# Every test: an ASan+UBSan build, the test-only npm clients, then CTest in parallel. Each test
# starts its own nats-server on a free loopback port in a temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=${NATSFN_TEST_BUILD:-build-asan}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DNATSFN_SANITIZE=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
# nats.js v2 proves our Object Store and wire formats interoperate; it is a test-only client.
if [ ! -d tests/js/node_modules/nats ]; then
  (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" --timeout 600 "$@"
