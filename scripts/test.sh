#!/bin/sh
# Runs every test of berth, as CI does (.ci/run calls exactly this):
#  1. the unit tests built with AddressSanitizer and UndefinedBehaviorSanitizer;
#  2. the normal build, then all tests under ctest (unit + integration),
#     inside a network namespace of their own so nothing can leave the machine.
# Ends with ctest's summary; exits non-zero if anything failed.
# Env: BERTH_TEST_ARGS passes extra arguments to the final ctest (e.g. "-R runtime").
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
status=0

echo "== sanitizer build: unit tests under ASan + UBSan"
cmake -S . -B build-sanitize -DBERTH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-sanitize -j"$jobs" --target unit-tests
(cd build-sanitize && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest -L unit --output-on-failure -j"$jobs") || status=1

echo "== build"
cmake -S . -B build >/dev/null
cmake --build build -j"$jobs"

echo "== all tests"
# shellcheck disable=SC2086
unshare --net -- sh -c "ip link set lo up && cd build && ctest --output-on-failure -j$jobs ${BERTH_TEST_ARGS:-}" \
    || status=1
exit $status
