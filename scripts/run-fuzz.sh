#!/usr/bin/env bash
# Build the libFuzzer targets (fuzz/) with clang 19 in build-fuzz/ and run each
# for the given seconds (default 20) from its seed corpus in fuzz/corpus/<target>/.
#   scripts/run-fuzz.sh [seconds]
# New inputs go to build-fuzz/corpus/<target>/ (the committed seeds stay as
# they are); a crash leaves its input in build-fuzz/ and exits non-zero.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-20}
jobs=${JOBS:-2}
cxx=${CXX:-clang++-19}

# The library is instrumented too (coverage for the fuzzer, ASan and UBSan
# inside the parser); assertions stay on (no NDEBUG), Beast's included.
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Fuzz \
    -DCMAKE_CXX_FLAGS_FUZZ="$flags" -DCORIO_BUILD_FUZZ=ON -DCORIO_BUILD_TESTS=OFF -DCORIO_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-fuzz -j"$jobs" --target http_response_parser_fuzz http_chunked_fuzz web_form_fuzz pg_binary_fuzz mysql_values_fuzz

status=0
for target in http_response_parser_fuzz http_chunked_fuzz web_form_fuzz pg_binary_fuzz mysql_values_fuzz; do
    corpus=build-fuzz/corpus/$target
    mkdir -p "$corpus"
    echo "== $target: ${seconds}s"
    if ! (cd build-fuzz && ./fuzz/"$target" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "corpus/$target" "../fuzz/corpus/$target"); then
        echo "== $target: FAILED (the crashing input is in build-fuzz/)"
        status=1
    fi
done
exit $status
