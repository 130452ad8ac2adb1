# scripts/servers/lib/common.sh: what every scripts/servers/NAME.sh does
# alike (sourced, never run: run_examples.sh and the CTest fixtures start
# only scripts/servers/*.sh).
#   stop_pid PID SIGNAL  sends SIGNAL, waits up to 15 s, then SIGKILL (5 s)
#   free_port            a port free on 127.0.0.1 now
# Each script defines log() before sourcing this.

stop_pid() {
    local pid=$1 signal=$2
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill "-$signal" "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    log "pid $pid still running after 15 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

free_port() {
    python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
