#!/bin/sh
# Installs every Debian package that berth's build, tests and benchmarks need.
# Idempotent and non-interactive: apt skips what is already installed.
# Keep this list in step with the dependency table of docs/architecture.md.
set -eu

if [ "$(id -u)" != 0 ]; then
    echo "install-deps.sh: run as root (apt-get needs it)" >&2
    exit 1
fi

build_packages="
    build-essential cmake pkg-config clang-format
    libyajl-dev
    libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
    libgrpc-dev
    libseccomp-dev
    libcurl4-openssl-dev
    libzstd-dev zlib1g-dev
    libarchive-dev
    libssl-dev
    liblmdb-dev
    libmicrohttpd-dev
    libnl-3-dev libnl-route-3-dev libmnl-dev
    libnftables-dev
    libcmocka-dev
"

# Runtime tools of the tests: real clients and reference peers. tini (its
# /usr/bin/tini-static) is also what berth-engined bind-mounts for --init.
test_packages="
    python3 python3-pytest python3-docker python3-grpcio python3-protobuf
    protobuf-compiler-grpc
    busybox-static
    runc
    tini
    iproute2 nftables procps util-linux tmux valgrind
    zstd gzip tar
"

# Side-by-side benchmarks (docker.io is installed by scripts/bench-engine itself,
# because it brings containerd and a dockerd that tests must not depend on).
bench_packages="
    crun hyperfine time
"

export DEBIAN_FRONTEND=noninteractive
missing=""
for package in $build_packages $test_packages $bench_packages; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $package"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps.sh: all packages already installed"
    exit 0
fi

echo "install-deps.sh: installing$missing"
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
