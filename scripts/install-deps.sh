#!/usr/bin/env bash
# Install the Debian 12 packages corio needs.
#   scripts/install-deps.sh [core|bench|all]   (default: core; all = bench)
# As root: apt-get installs whatever is missing (apt-get update only if something is).
# Otherwise: prints the sudo line to run and exits 1 if something is missing.
set -euo pipefail

# The one list of packages. bench = core + these.
CORE_PKGS=(
    build-essential cmake ninja-build g++ clang pkg-config
    clang-19             # make's default compiler (g++ 12 miscompiles temporaries in co_await)
    libclang-rt-19-dev libclang-rt-14-dev  # clang's sanitizer runtimes
    libgtest-dev libgmock-dev
    liburing-dev
    socat netcat-openbsd # real peers for the networking tests
    libc-ares-dev        # corio::resolve
    libssl-dev openssl   # corio's TLS; the TLS tests' peers (openssl s_server, s_client)
    dnsmasq-base         # a local DNS server for the resolve tests
    python3              # examples/match_output.py (make demo)
    libboost1.81-dev libboost-url1.81-dev  # corio::http: Beast's HTTP parser, Boost.URL
    zlib1g-dev libbrotli-dev nlohmann-json3-dev  # corio::http: gzip/deflate, br, JSON bodies
    nginx curl           # corio::http's test peers (tests/http/peers) and the checks of them
    chromium             # corio::web: a page served by corio, loaded by a real browser in the tests
    wrk                  # corio::web: the load test of tests/web (and make bench)
    libpq-dev postgresql-15 postgresql-client-15  # corio::pg: libpq; the server its tests and examples start
    libmariadb-dev mariadb-server mariadb-client  # corio::mysql: Connector/C; the server its tests and examples start
)
BENCH_PKGS=(
    libbenchmark-dev libboost1.81-dev
    python3 python3-uvloop python3-aiofiles  # bench/compare.py runs with /usr/bin/python3
    wrk python3-aiohttp libcurl4-openssl-dev # the http section: wrk, aiohttp and libcurl multi against nginx
    linux-perf                               # perf record, for what limits a missed target
    python3-asyncpg python3-aiomysql         # the database sections' Python anchors
)

set_name=${1:-core}
case "$set_name" in
    core) wanted=("${CORE_PKGS[@]}") ;;
    bench | all) wanted=("${CORE_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
    -h | --help)
        echo "usage: $0 [core|bench|all]"
        exit 0
        ;;
    *)
        echo "usage: $0 [core|bench|all]" >&2
        exit 2
        ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        # skip duplicates (python3 is in both sets)
        [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: every package for '$set_name' is installed"
    exit 0
fi

echo "install-deps: missing: ${missing[*]}"
install_cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: not root; run this (after 'sudo apt-get update' on a fresh machine):" >&2
    echo "  sudo ${install_cmd[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
"${install_cmd[@]}"
echo "install-deps: installed ${missing[*]}"
