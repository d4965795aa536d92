#!/bin/sh
# From a fresh Debian 12 machine to a running container through the whole
# stack: installs the dependencies, builds, installs to /usr/local, starts a
# supervisor and an engine (scripts/stack, state under /var/lib/berth/stack),
# loads the bundled busybox image and runs a container from it with the
# berth CLI. The stack stays up; the last lines say how to use and stop it.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
stack_dir=${BERTH_STACK_DIR:-/var/lib/berth/stack}

scripts/install-deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$jobs"
cmake --install build >/dev/null

BERTH_BIN_DIR=/usr/local/bin scripts/stack up "$stack_dir" >/dev/null
BERTH_HOST=unix://$stack_dir/engine.sock
export BERTH_HOST
berth load -q -i /usr/local/share/berth/images/busybox.tar >/dev/null
berth run --rm busybox echo hello
echo
echo "The stack runs under $stack_dir. To use it:"
echo "  export BERTH_HOST=$BERTH_HOST DOCKER_HOST=$BERTH_HOST"
echo "  berth run -it --rm busybox sh      # or the docker CLI, or any Docker SDK"
echo "To stop it and every container: scripts/stack down $stack_dir"
