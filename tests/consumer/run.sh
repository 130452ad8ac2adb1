#!/usr/bin/env bash
# tests/consumer/run.sh [subdirectory|package|compiler-check|both|all]   (default: both)
# Uses corio from another CMake project, a copy of tests/consumer in a temp dir
# (so the corio checkout is outside the consumer's tree), and checks:
#   subdirectory    add_subdirectory(path/to/corio corio) in a consumer configured
#                   without CMAKE_BUILD_TYPE: corio does not write its default
#                   build type into the consumer's cache; the program runs.
#   package         cmake --install build --prefix P, then find_package(corio)
#                   with CMAKE_PREFIX_PATH=P; the program runs; the configure
#                   warning about g++ 12 comes through find_package too.
#   compiler-check  configure only, with g++ 12 and with clang: corio's configure
#                   check warns about the g++ 12 co_await bug with g++ 12 and
#                   not with clang (the CTest test consumer_compiler_check).
#   both            subdirectory and package (CI's consumer stage); all: the three.
# CXX picks the compiler for subdirectory and package (default: cmake's).
# Exits 77 (skipped) in compiler-check when neither g++ 12 nor clang is installed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
jobs=${JOBS:-2}
modes=${1:-both}
[[ "$modes" == both ]] && modes="subdirectory package"
[[ "$modes" == all ]] && modes="subdirectory package compiler-check"
unset CMAKE_BUILD_TYPE  # cmake >= 3.22 would take it as the default build type

gen=()
command -v ninja >/dev/null && gen=(-G Ninja)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The consumer project, outside corio's tree.
mkdir "$tmp/app"
cp "$here/CMakeLists.txt" "$here/main.cpp" "$tmp/app/"

fail() {
    echo "consumer: FAIL: $*" >&2
    exit 1
}

check_run() { # check_run MODE BINARY
    local out rc=0
    out=$("$2") || rc=$?
    echo "$out"
    if ((rc != 0)) || [[ "$out" != *"consumer got 42"* ]]; then
        fail "($1) exit $rc, expected 'consumer got 42'"
    fi
    echo "consumer ($1): ok"
}

# The compiler a configured build dir uses, as "ID VERSION" (GNU 12.2.0, Clang 19.1.7).
compiler_of() {
    local f
    f=$(echo "$1"/CMakeFiles/*/CMakeCXXCompiler.cmake)
    sed -n 's/^set(CMAKE_CXX_COMPILER_ID "\(.*\)")/\1/p; s/^set(CMAKE_CXX_COMPILER_VERSION "\(.*\)")/\1/p' "$f" | paste -sd' '
}

warning_text='destroys twice a temporary written inside a co_await expression'

# check_warning WHAT BUILD_DIR LOG: g++ 12 must warn, clang must not; other
# compilers are reported, not judged.
check_warning() {
    local what=$1 dir=$2 log=$3 compiler warned=no
    compiler=$(compiler_of "$dir")
    # cmake wraps warning text: join the lines before looking for it
    tr -s ' \n' '  ' <"$log" | grep -q "$warning_text" && warned=yes
    case "$compiler" in
        GNU\ 12.*) [[ $warned == yes ]] || fail "($what) no co_await warning with $compiler" ;;
        Clang\ *) [[ $warned == no ]] || fail "($what) a co_await warning with $compiler" ;;
    esac
    echo "consumer ($what): $compiler, co_await warning: $warned"
}

# The consumer did not ask for a build type: corio must not have chosen one for it.
check_build_type_not_set() { # check_build_type_not_set MODE BUILD_DIR
    local type
    type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$2/CMakeCache.txt")
    [[ -z "$type" ]] || fail "($1) corio set the consumer's CMAKE_BUILD_TYPE to '$type'"
    echo "consumer ($1): CMAKE_BUILD_TYPE left unset"
}

configure() { # configure LOG cmake-args...: cmake's output to the terminal and LOG
    local log=$1
    shift
    cmake "$@" 2>&1 | tee "$log"
}

# The installed corio, built once for package mode.
install_corio() {
    [[ -d "$tmp/prefix" ]] && return
    configure "$tmp/corio.log" -S "$root" -B "$tmp/corio" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCORIO_BUILD_TESTS=OFF -DCORIO_BUILD_EXAMPLES=OFF -DCORIO_BUILD_BENCH=OFF
    cmake --build "$tmp/corio" -j"$jobs"
    cmake --install "$tmp/corio" --prefix "$tmp/prefix"
    [[ -n "$(find "$tmp/prefix" -path '*/cmake/corio/corioCoroutineCheck.cmake')" ]] ||
        fail "(package) the install has no cmake/corio/corioCoroutineCheck.cmake"
}

for mode in $modes; do
    echo "--- consumer: $mode ---"
    case "$mode" in
        subdirectory)
            # add_subdirectory(path/to/corio corio), no CMAKE_BUILD_TYPE given
            configure "$tmp/sub.log" -S "$tmp/app" -B "$tmp/sub" "${gen[@]}" \
                -DCONSUMER_MODE=subdirectory -DCORIO_SOURCE_DIR="$root"
            check_build_type_not_set subdirectory "$tmp/sub"
            check_warning subdirectory "$tmp/sub" "$tmp/sub.log"
            cmake --build "$tmp/sub" -j"$jobs"
            check_run subdirectory "$tmp/sub/consumer"
            ;;
        package)
            install_corio
            configure "$tmp/pkg.log" -S "$tmp/app" -B "$tmp/pkg" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
                -DCONSUMER_MODE=package -DCMAKE_PREFIX_PATH="$tmp/prefix"
            check_warning package "$tmp/pkg" "$tmp/pkg.log"
            cmake --build "$tmp/pkg" -j"$jobs"
            check_run package "$tmp/pkg/consumer"
            # find_package's check with the other compilers (configure only)
            for cxx in g++-12 clang++-19; do
                command -v "$cxx" >/dev/null || continue
                CXX=$cxx configure "$tmp/pkg-$cxx.log" -S "$tmp/app" -B "$tmp/pkg-$cxx" "${gen[@]}" \
                    -DCONSUMER_MODE=package -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
                check_warning "package, $cxx" "$tmp/pkg-$cxx" "$tmp/pkg-$cxx.log"
            done
            ;;
        compiler-check)
            # add_subdirectory, configure only: the check runs at configure time
            checked=0
            for cxx in g++-12 clang++-19 clang++-14; do
                command -v "$cxx" >/dev/null || continue
                CXX=$cxx configure "$tmp/cc-$cxx.log" -S "$tmp/app" -B "$tmp/cc-$cxx" "${gen[@]}" \
                    -DCONSUMER_MODE=subdirectory -DCORIO_SOURCE_DIR="$root" >/dev/null ||
                    { cat "$tmp/cc-$cxx.log"; fail "(compiler-check) configure with $cxx failed"; }
                check_warning "compiler-check, $cxx" "$tmp/cc-$cxx" "$tmp/cc-$cxx.log"
                checked=$((checked + 1))
            done
            ((checked > 0)) || { echo "consumer (compiler-check): none of g++-12, clang++-19, clang++-14 installed: skipped"; exit 77; }
            ;;
        *)
            echo "usage: $0 [subdirectory|package|compiler-check|both|all]" >&2
            exit 2
            ;;
    esac
done
