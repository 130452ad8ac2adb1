#!/usr/bin/env bash
# examples/run_examples.sh BUILD_DIR
# Runs BUILD_DIR/NAME for every examples/expected/NAME.txt and checks its stdout
# against that file. An expected line that is exactly `...` matches any number of
# lines (see match_output.py). An example is expected to exit with status 0,
# or with the status in examples/expected/NAME.status (130: ended by SIGINT).
# Each runs in a fresh scratch directory (the file examples write there).
# Ends with "N passed, N failed"; exits non-zero if any example failed or none
# ran. EXAMPLE_TIMEOUT (seconds, default 120) per example.
set -uo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build_dir=$(cd "$1" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
timeout_s=${EXAMPLE_TIMEOUT:-120}

shopt -s nullglob
expected_files=("$here"/expected/*.txt)
if ((${#expected_files[@]} == 0)); then
    echo "no examples: $here/expected/ has no NAME.txt files"
    echo "0 passed, 0 failed"
    exit 1
fi

for src in "$here"/*.cpp; do
    name=$(basename "$src" .cpp)
    [[ -f "$here/expected/$name.txt" ]] || echo "warning: examples/$name.cpp has no expected/$name.txt; not checked" >&2
done

tmp=$(mktemp -d)
chmod 711 "$tmp"  # the postgres server runs as the postgres user, in a folder under it
http_pid=""
started_servers=()
cleanup() {
    [[ -n "$http_pid" ]] && kill "$http_pid" 2>/dev/null && wait "$http_pid" 2>/dev/null
    local s
    for s in "${started_servers[@]}"; do bash "$here/../scripts/servers/$s.sh" stop "$tmp/server-$s" || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# The HTTP examples fetch from a local server (python3 -m http.server on a
# port the kernel picks), stopped by PID when the examples are done.
mkdir -p "$tmp/www"
for i in 1 2 3; do echo "page $i" >"$tmp/www/p$i.txt"; done
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$tmp/www" >"$tmp/http.log" 2>&1 &
http_pid=$!
for _ in $(seq 100); do
    port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$tmp/http.log" | head -1)
    [[ -n "$port" ]] && break
    sleep 0.05
done
if [[ -z "${port:-}" ]]; then
    echo "could not start python3 -m http.server for the HTTP examples:"; cat "$tmp/http.log"
    exit 1
fi
export CORIO_EXAMPLE_HTTP="http://127.0.0.1:$port"

# The database examples' servers: scripts/servers/NAME.sh start DIR starts one
# in DIR (a fresh folder, loopback only) and prints KEY=VALUE lines that the
# examples read from their environment; NAME.sh stop DIR stops it by PID.
for script in "$here"/../scripts/servers/*.sh; do
    s=$(basename "$script" .sh)
    mkdir -p "$tmp/server-$s"
    if ! env_lines=$(bash "$script" start "$tmp/server-$s"); then
        echo "could not start the $s server for the examples"
        bash "$script" stop "$tmp/server-$s" || true
        exit 1
    fi
    started_servers+=("$s")
    while IFS= read -r line; do
        [[ "$line" == *=* ]] && export "${line?}"
    done <<<"$env_lines"
done

# A server example (examples/expected/NAME.client.sh exists): the program
# serves on CORIO_EXAMPLE_PORT; once the port answers, the client script runs
# against it (curl), then SIGTERM asks for the graceful shutdown. What is
# checked: the client's stdout, a "--- server ---" line, the server's stdout;
# the status is the server's.
run_server_example() { # NAME BIN OUT
    local name=$1 bin=$2 out=$3 port server_pid rc
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    (cd "$tmp/run-$name" && CORIO_EXAMPLE_PORT=$port exec timeout "$timeout_s" "$bin" >"$out.server" </dev/null) &
    server_pid=$!
    for _ in $(seq 200); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    CORIO_EXAMPLE_PORT=$port timeout "$timeout_s" bash "$here/expected/$name.client.sh" >"$out" 2>&1
    echo "--- server ---" >>"$out"
    # timeout(1) passes SIGTERM on to the server.
    kill -TERM "$server_pid" 2>/dev/null
    wait "$server_pid"
    rc=$?
    cat "$out.server" >>"$out"
    return "$rc"
}

passed=0
failed=0
failed_names=()
for expected in "${expected_files[@]}"; do
    name=$(basename "$expected" .txt)
    bin="$build_dir/$name"
    out="$tmp/$name.out"
    echo "== $name =="
    if [[ ! -x "$bin" ]]; then
        echo "FAIL $name: no executable $bin (is examples/$name.cpp built?)"
        failed=$((failed + 1)); failed_names+=("$name")
        continue
    fi

    want_rc=0
    [[ -f "$here/expected/$name.status" ]] && want_rc=$(<"$here/expected/$name.status")
    mkdir -p "$tmp/run-$name"
    if [[ -f "$here/expected/$name.client.sh" ]]; then
        run_server_example "$name" "$bin" "$out"
        rc=$?
    else
        (cd "$tmp/run-$name" && timeout "$timeout_s" "$bin" >"$out" </dev/null)
        rc=$?
    fi
    cat "$out"

    problem=""
    if ((rc == 124)); then
        problem="timed out after ${timeout_s}s"
    elif ((rc != want_rc)); then
        problem="exited with status $rc (expected $want_rc)"
    elif ! /usr/bin/python3 "$here/match_output.py" "$expected" "$out"; then
        problem="output differs"
    fi

    if [[ -z "$problem" ]]; then
        echo "ok $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name: $problem"
        if [[ "$problem" == "output differs" ]]; then
            diff -u --label "expected/$name.txt" --label "$name stdout" "$expected" "$out"
        fi
        failed=$((failed + 1)); failed_names+=("$name")
    fi
done

echo
((failed == 0)) || echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed"
((failed == 0))
