# Shared by the benchmark scripts (source it): servers started in the background are killed and the scratch folder
# `$work` removed on exit; loopback ports picked free; waiting for a port to open, up to WAIT_PORT_SECONDS (10).
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_port() {
    local tries=$(( ${WAIT_PORT_SECONDS:-10} * 20 ))
    for _ in $(seq 1 "$tries"); do (echo > /dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done
    echo "port $1 did not open" >&2
    exit 1
}
