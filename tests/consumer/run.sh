#!/usr/bin/env bash
# tests/consumer/run.sh [subdirectory|package|both]   (default: both)
# Builds tests/consumer against corio via add_subdirectory and/or via
# cmake --install + find_package, in temp dirs, and checks the program's output.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
jobs=${JOBS:-2}
modes=${1:-both}
[[ "$modes" == both ]] && modes="subdirectory package"

gen=()
command -v ninja >/dev/null && gen=(-G Ninja)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # check MODE BINARY
    local out rc=0
    out=$("$2") || rc=$?
    echo "$out"
    if ((rc != 0)) || [[ "$out" != *"consumer got 42"* ]]; then
        echo "consumer ($1): FAIL (exit $rc), expected 'consumer got 42'" >&2
        exit 1
    fi
    echo "consumer ($1): ok"
}

for mode in $modes; do
    echo "--- consumer: $mode ---"
    case "$mode" in
        subdirectory)
            cmake -S "$here" -B "$tmp/sub" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
                -DCONSUMER_MODE=subdirectory -DCORIO_SOURCE_DIR="$root"
            cmake --build "$tmp/sub" -j"$jobs"
            check subdirectory "$tmp/sub/consumer"
            ;;
        package)
            cmake -S "$root" -B "$tmp/corio" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
                -DCORIO_BUILD_TESTS=OFF -DCORIO_BUILD_EXAMPLES=OFF -DCORIO_BUILD_BENCH=OFF
            cmake --build "$tmp/corio" -j"$jobs"
            cmake --install "$tmp/corio" --prefix "$tmp/prefix"
            cmake -S "$here" -B "$tmp/pkg" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
                -DCONSUMER_MODE=package -DCMAKE_PREFIX_PATH="$tmp/prefix"
            cmake --build "$tmp/pkg" -j"$jobs"
            check package "$tmp/pkg/consumer"
            ;;
        *)
            echo "usage: $0 [subdirectory|package|both]" >&2
            exit 2
            ;;
    esac
done
