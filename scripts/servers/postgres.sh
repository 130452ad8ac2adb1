#!/usr/bin/env bash
# scripts/servers/postgres.sh start|stop DIR
# A private PostgreSQL 15 server for corio::pg's tests, examples and
# benchmarks: a fresh data folder in DIR (initdb as the `postgres` user when
# run as root: the server refuses root), loopback only on a free port,
# SCRAM-SHA-256 over TCP (user corio, password corio-secret, a superuser),
# trust on the Unix socket in DIR, database corio_test; fsync off.
# Run as root, the server runs as `postgres`, which must reach DIR: when a
# parent folder is private (mktemp -d), data, socket and log live in a
# folder of their own under /tmp instead, named in DIR/home and removed by
# `stop` (DIR/log then links to its log).
# `start` prints KEY=VALUE lines on stdout (also written to DIR/env):
#   CORIO_PG_HOST, CORIO_PG_PORT, CORIO_PG_USER, CORIO_PG_PASSWORD,
#   CORIO_PG_DB, CORIO_PG_SOCKET_DIR, CORIO_PG_DSN, CORIO_PG_SSL_CA.
# TLS is on (ssl=on; clients choose with sslmode): a private CA made here
# signs the server's certificate for 127.0.0.1 and localhost; its
# certificate is CORIO_PG_SSL_CA (for sslmode=verify-full).
# With CORIO_PG_WATCH_PID set, a watchdog stops the server (and removes DIR)
# once that process is gone: a test binary killed by a timeout leaks nothing.
# `stop` stops the server by the PID in DIR/data/postmaster.pid (SIGINT: fast
# shutdown, bounded, then SIGKILL) and removes DIR. Both are idempotent;
# progress goes to stderr, the server's log to DIR/log.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
dir=$2
user=corio
password=corio-secret
db=corio_test
bin=${CORIO_PG_BIN:-/usr/lib/postgresql/15/bin}

log() { echo "postgres.sh: $*" >&2; }
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

home_of() { # where the data, socket and log are
    if [[ -f "$dir/home" ]]; then cat "$dir/home"; else echo "$dir"; fi
}

stop_server() {
    local pid="" home
    home=$(home_of)
    [[ -f "$home/data/postmaster.pid" ]] && pid=$(head -1 "$home/data/postmaster.pid" 2>/dev/null || true)
    [[ -z "$pid" && -f "$dir/launcher.pid" ]] && pid=$(cat "$dir/launcher.pid" 2>/dev/null || true)
    stop_pid "$pid" INT
}

case "$action" in
stop)
    stop_server
    [[ -f "$dir/home" ]] && rm -rf "$(cat "$dir/home")"
    rm -rf "$dir"
    exit 0
    ;;
start) ;;
*) usage ;;
esac

stop_server
[[ -f "$dir/home" ]] && rm -rf "$(cat "$dir/home")"
rm -rf "$dir"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
home=$dir
as_owner=()
if [[ $(id -u) -eq 0 ]]; then
    as_owner=(runuser -u postgres --)
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -x "$dir"; then
        home=$(mktemp -d /tmp/corio-postgres.XXXXXX)
        chmod 755 "$home"
        chown postgres: "$home"
        echo "$home" >"$dir/home"
        log "the postgres user cannot reach $dir: the server lives in $home"
    fi
fi

log "initializing $home/data"
printf '%s' "$password" >"$home/pwfile"
[[ ${#as_owner[@]} -gt 0 ]] && chown postgres: "$home/pwfile"
if ! "${as_owner[@]}" "$bin/initdb" -D "$home/data" -U "$user" --pwfile="$home/pwfile" \
    --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    exit 1
fi
rm -f "$home/pwfile"
touch "$home/log"
[[ ${#as_owner[@]} -gt 0 ]] && chown postgres: "$home/log"
[[ "$home" != "$dir" ]] && ln -s "$home/log" "$dir/log"  # pg_ctl restart (a test's) appends as postgres

# A private CA and the server's certificate (EC keys: fast to make).
ssl=$home/ssl
mkdir -p "$ssl"
if ! {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=corio test CA" -keyout "$ssl/ca.key" -out "$ssl/ca.crt" &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$ssl/server.key" -out "$ssl/server.csr" &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$ssl/ext" &&
    openssl x509 -req -in "$ssl/server.csr" -CA "$ssl/ca.crt" -CAkey "$ssl/ca.key" -CAcreateserial \
        -days 2 -extfile "$ssl/ext" -out "$ssl/server.crt"
} >"$ssl/openssl.log" 2>&1; then
    cat "$ssl/openssl.log" >&2
    exit 1
fi
chmod 600 "$ssl/server.key"
[[ ${#as_owner[@]} -gt 0 ]] && chown -R postgres: "$ssl"

started=""
for attempt in 1 2 3 4 5; do
    port=$(free_port)
    log "starting postgres on 127.0.0.1:$port (attempt $attempt)"
    "${as_owner[@]}" "$bin/postgres" -D "$home/data" -p "$port" -c listen_addresses=127.0.0.1 \
        -c unix_socket_directories="$home" -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off -c shared_buffers=32MB -c max_connections=200 \
        -c ssl=on -c ssl_cert_file="$ssl/server.crt" -c ssl_key_file="$ssl/server.key" \
        </dev/null >>"$dir/log" 2>&1 &
    launcher=$!
    echo "$launcher" >"$dir/launcher.pid"
    for _ in $(seq 300); do
        if ! kill -0 "$launcher" 2>/dev/null; then break; fi
        if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1 >/dev/null 2>&1; then
            started=yes
            break
        fi
        sleep 0.1
    done
    [[ -n "$started" ]] && break
    log "postgres did not answer; log tail:"
    tail -5 "$dir/log" >&2 || true
    kill -KILL "$launcher" 2>/dev/null || true
    wait "$launcher" 2>/dev/null || true
    rm -f "$home/data/postmaster.pid"
done
if [[ -z "$started" ]]; then
    log "postgres did not start within 5 attempts of 30 s; see $dir/log"
    exit 1
fi

"${as_owner[@]}" "$bin/psql" -q -h "$home" -p "$port" -U "$user" -d postgres -c "CREATE DATABASE $db" >&2

env_lines="CORIO_PG_HOST=127.0.0.1
CORIO_PG_PORT=$port
CORIO_PG_USER=$user
CORIO_PG_PASSWORD=$password
CORIO_PG_DB=$db
CORIO_PG_SOCKET_DIR=$home
CORIO_PG_DSN=postgresql://$user:$password@127.0.0.1:$port/$db
CORIO_PG_SSL_CA=$ssl/ca.crt"
echo "$env_lines" >"$dir/env"
if [[ -n "${CORIO_PG_WATCH_PID:-}" ]]; then
    nohup bash -c 'while kill -0 "$1" 2>/dev/null && [[ -d "$3" ]]; do sleep 1; done; bash "$2" stop "$3"; rmdir "$(dirname "$3")" 2>/dev/null' \
        watchdog "$CORIO_PG_WATCH_PID" "${BASH_SOURCE[0]}" "$dir" </dev/null >/dev/null 2>&1 &
fi
echo "$env_lines"
log "ready on 127.0.0.1:$port and $home/.s.PGSQL.$port"
