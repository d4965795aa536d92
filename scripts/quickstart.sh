#!/bin/sh
# From a fresh Debian 12 machine to a running container: installs the
# dependencies, builds, installs to /usr/local, and runs a container from the
# bundled busybox image.
#
# Today the stack's top (engine, supervisor, shim, CLI) is not there yet, so
# the container is run with berth-runtime on an OCI bundle made from the image.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

scripts/install-deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$jobs"
cmake --install build >/dev/null

bundle=$(mktemp -d /tmp/berth-quickstart-XXXXXX)
trap 'berth-runtime delete --force quickstart-$$ >/dev/null 2>&1 || true; rm -rf "$bundle"' EXIT
scripts/mkbundle --image /usr/local/share/berth/images/busybox/oci "$bundle" \
    sh -c 'echo "hello from busybox in a berth container: $(uname -s) $(hostname)"'
cd "$bundle"
berth-runtime run quickstart-$$ </dev/null
