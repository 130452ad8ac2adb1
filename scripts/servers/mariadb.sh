#!/usr/bin/env bash
# scripts/servers/mariadb.sh start|stop|restart DIR
# A private MariaDB server for corio::mysql's tests, examples and benchmarks:
# a fresh data folder in DIR, loopback only, a free port, real authentication
# (root and corio with passwords, mysql_native_password), database testdb.
# `start` prints KEY=VALUE lines on stdout (also written to DIR/env):
#   CORIO_MYSQL_HOST, CORIO_MYSQL_PORT, CORIO_MYSQL_USER, CORIO_MYSQL_PASSWORD,
#   CORIO_MYSQL_DB, CORIO_MYSQL_SOCKET (and CORIO_MYSQL_ROOT_PASSWORD, and
#   CORIO_MYSQL_TLS_CA: the CA of the server's certificate for 127.0.0.1).
# `stop` stops the server by the PID in DIR/mariadbd.pid and removes DIR.
# `restart` stops the server of DIR and starts it again on the same port and
# data (the tests of a pool healing after a restart use a private DIR).
# With CORIO_MARIADB_TLS=off at `start`, the server offers no TLS (no
# CORIO_MYSQL_TLS_CA then; `restart` keeps it so): the test of a client that
# requires TLS from a server without it.
# start and stop are idempotent; progress goes to stderr, the server's log to DIR/log.
set -euo pipefail

usage() { echo "usage: $0 start|stop|restart DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
dir=$2
root_password=corio-root-secret
user=corio
password=corio-secret

log() { echo "mariadb.sh: $*" >&2; }
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

stop_server() {
    local pid=""
    [[ -f "$dir/mariadbd.pid" ]] && pid=$(cat "$dir/mariadbd.pid" 2>/dev/null || true)
    [[ -z "$pid" && -f "$dir/launcher.pid" ]] && pid=$(cat "$dir/launcher.pid" 2>/dev/null || true)
    stop_pid "$pid" TERM
}

case "$action" in
stop)
    stop_server
    rm -rf "$dir"
    exit 0
    ;;
start | restart) ;;
*) usage ;;
esac

run_as=()
[[ $(id -u) -eq 0 ]] && run_as=(--user=root)
if [[ "$action" == start ]]; then
    stop_server
    rm -rf "$dir"
    mkdir -p "$dir"
fi
dir=$(cd "$dir" && pwd)

if [[ "$action" == start ]]; then
if [[ "${CORIO_MARIADB_TLS:-on}" == off ]]; then touch "$dir/no-tls"; fi
# A CA and a server certificate for 127.0.0.1 and localhost, so that TLS can
# be tested (clients that do not ask for TLS do not get it).
if ! (cd "$dir" && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=corio test CA" \
        -keyout ca-key.pem -out ca.pem \
    && openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server-key.pem -out server.csr \
    && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext \
    && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
        -extfile san.ext -out server-cert.pem) >"$dir/tls.log" 2>&1; then
    cat "$dir/tls.log" >&2
    exit 1
fi
log "initializing $dir/data"
if ! mariadb-install-db --no-defaults --datadir="$dir/data" --auth-root-authentication-method=normal \
    --skip-test-db --skip-name-resolve --user="$(whoami)" >"$dir/install.log" 2>&1; then
    cat "$dir/install.log" >&2
    exit 1
fi
fi

admin() { mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot "$@"; }

tls_args=(--ssl-ca="$dir/ca.pem" --ssl-cert="$dir/server-cert.pem" --ssl-key="$dir/server-key.pem")
[[ -f "$dir/no-tls" ]] && tls_args=()

# Starts mariadbd on $port and waits (30 s) for it to answer; 1 if it did not.
launch() {
    log "starting mariadbd on 127.0.0.1:$port"
    mariadbd --no-defaults --datadir="$dir/data" --socket="$dir/mysqld.sock" --port="$port" \
        --bind-address=127.0.0.1 --pid-file="$dir/mariadbd.pid" "${run_as[@]}" \
        --innodb-buffer-pool-size=64M --innodb-log-file-size=16M --skip-log-bin \
        --innodb-flush-log-at-trx-commit=0 --skip-name-resolve --max-connections=500 \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --lock-wait-timeout=20 --innodb-lock-wait-timeout=10 \
        "${tls_args[@]}" \
        --log-error="$dir/log" </dev/null >>"$dir/log" 2>&1 &
    local launcher=$!
    echo "$launcher" >"$dir/launcher.pid"
    for _ in $(seq 300); do
        kill -0 "$launcher" 2>/dev/null || break
        if mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot --password="$root_password" \
            --connect-timeout=1 ping >/dev/null 2>&1; then
            return 0
        fi
        # Before the passwords are set, root has none.
        if mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot --connect-timeout=1 ping >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    log "mariadbd did not answer; log tail:"
    tail -5 "$dir/log" >&2 || true
    kill -KILL "$launcher" 2>/dev/null || true
    wait "$launcher" 2>/dev/null || true
    rm -f "$dir/mariadbd.pid"
    return 1
}

if [[ "$action" == restart ]]; then
    [[ -f "$dir/port" ]] || { log "no server in $dir to restart"; exit 1; }
    port=$(cat "$dir/port")
    stop_server
    for attempt in 1 2 3; do
        launch && exit 0
        sleep 0.5
    done
    log "mariadbd did not start again on port $port"
    exit 1
fi

started=""
for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if launch; then
        started=yes
        break
    fi
done
if [[ -z "$started" ]]; then
    log "mariadbd did not start within 5 attempts of 30 s; see $dir/log"
    exit 1
fi
echo "$port" >"$dir/port"

admin <<SQL
CREATE DATABASE testdb CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER '$user'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('$password');
CREATE USER '$user'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('$password');
GRANT ALL PRIVILEGES ON *.* TO '$user'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$user'@'localhost' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
ALTER USER 'root'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('$root_password');
ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('$root_password');
DELETE FROM mysql.global_priv WHERE User = 'root' AND Host NOT IN ('localhost', '127.0.0.1');
FLUSH PRIVILEGES;
SQL

env_lines="CORIO_MYSQL_HOST=127.0.0.1
CORIO_MYSQL_PORT=$port
CORIO_MYSQL_USER=$user
CORIO_MYSQL_PASSWORD=$password
CORIO_MYSQL_DB=testdb
CORIO_MYSQL_SOCKET=$dir/mysqld.sock
CORIO_MYSQL_ROOT_PASSWORD=$root_password"
[[ -f "$dir/no-tls" ]] || env_lines+="
CORIO_MYSQL_TLS_CA=$dir/ca.pem"
echo "$env_lines" >"$dir/env"
echo "$env_lines"
log "ready on 127.0.0.1:$port and $dir/mysqld.sock"
