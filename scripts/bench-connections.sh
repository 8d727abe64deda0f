#!/usr/bin/env bash
# What a request costs the server when each request opens a connection of its own, against the same request on one
# kept-alive connection: CPU time and context switches of the server's process per request (`perf stat -e
# task-clock,context-switches -p PID`, counted by the kernel, not sampled) and curl's p50 latency. Servers: nginx
# serving a small file (the reference), the mock provider answering a chat completion (plain SwiftNIO handlers, one
# event loop and two), and Tollgate answering `GET /readyz` (a Hummingbird route) and proxying the chat completion to
# the one-loop mock (the proxy's handlers; its log stored). One curl per request for the first, one curl for all for
# the second.
#
#   scripts/bench-connections.sh [requests per row, default 500]
#   BIN=path scripts/bench-connections.sh …   # that tollgate binary instead of a release build of this checkout
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh nginx-light linux-perf
count="${1:-500}"
work=$(mktemp -d)
source scripts/lib-servers.sh
release_binary

mkdir -p "$work/www"
echo '{"status":"ok"}' >"$work/www/readyz"
chmod 755 "$work" "$work/www"
chmod 644 "$work/www/readyz"
nginx_port=$(free_port)
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log error;
daemon off;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$nginx_port; root $work/www; } }
NGINX
nginx -c "$work/nginx.conf" -p "$work" & pids+=($!)
mock1=$(free_port); mock2=$(free_port); gw=$(free_port)
"$bin" mock-provider --port "$mock1" --threads 1 >/dev/null 2>&1 & pids+=($!); mock1_pid=$!
"$bin" mock-provider --port "$mock2" --threads 2 >/dev/null 2>&1 & pids+=($!); mock2_pid=$!
TOLLGATE_ADMIN_TOKEN=bench "$bin" serve --port "$gw" --data "$work/data" --retention-interval-minutes 0 \
    --upstream "openai=http://127.0.0.1:$mock1/v1" --log-level error >/dev/null 2>&1 & pids+=($!); gw_pid=$!
for port in "$nginx_port" "$mock1" "$mock2" "$gw"; do wait_port "$port"; done
unlimited_default_account "$gw"
sleep 1

body='{"model":"gpt-5-mini","messages":[{"role":"user","content":"hi"}]}'
# request_args URL: sets `args` to curl's arguments for one request to URL (a POST for the proxy's path).
request_args() {
    case "$1" in
        */v1/*) args=(-X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer sk-bench' -d "$body" "$1") ;;
        *) args=("$1") ;;
    esac
}

# measure PIDS URL MODE: perf stat over COUNT requests (MODE new: a curl each; kept: one curl for all); prints the
# CPU µs and context switches per request and the p50 ms, as table cells.
measure() {
    local pids_list=$1 url=$2 mode=$3 times code
    request_args "$url"
    for _ in 1 2 3 4 5; do code=$(curl -s -o /dev/null -w '%{http_code}' "${args[@]}"); done
    [ "$code" = 200 ] || { echo "$url answered $code" >&2; exit 1; }
    perf stat -e task-clock,context-switches -p "$pids_list" -o "$work/stat" -x, &
    local perf_pid=$!
    sleep 0.5
    if [ "$mode" = new ]; then
        times=$(for _ in $(seq 1 "$count"); do curl -s -o /dev/null -w '%{time_total}\n' "${args[@]}"; done)
    else
        local all=()
        for _ in $(seq 1 "$count"); do all+=(-o /dev/null -w '%{time_total}\n' "${args[@]}"); done
        times=$(curl -s "${all[@]}")
    fi
    kill -INT "$perf_pid"
    wait "$perf_pid" 2>/dev/null || true
    local cpu switches p50
    cpu=$(awk -F, '/task-clock/ { print $1 }' "$work/stat")
    switches=$(awk -F, '/context-switches/ { print $1 }' "$work/stat")
    p50=$(echo "$times" | sort -n | awk '{ t[NR] = $1 } END { printf "%.2f", t[int(NR * 0.5)] * 1000 }')
    python3 -c "print(f' {$cpu * 1000 / $count:,.0f} µs | {$switches / $count:.1f} | $p50 ms |', end='')"
}

nginx_master=$(cat "$work/nginx.pid")
nginx_pids=$( (echo "$nginx_master"; pgrep -P "$nginx_master") | paste -sd,)
echo "$count requests a row; per request: the server's CPU time and context switches (perf stat), curl's p50"
echo
echo "| server, request | new connection each: CPU | switches | p50 | one kept-alive connection: CPU | switches | p50 |"
echo "|---|---:|---:|---:|---:|---:|---:|"
row() {
    echo -n "| $1 |"
    measure "$2" "$3" new
    measure "$2" "$3" kept
    echo
}
row "nginx, a small file" "$nginx_pids" "http://127.0.0.1:$nginx_port/readyz"
row "mock provider (SwiftNIO), one event loop" "$mock1_pid" "http://127.0.0.1:$mock1/v1/chat/completions"
row "mock provider (SwiftNIO), two event loops" "$mock2_pid" "http://127.0.0.1:$mock2/v1/chat/completions"
row "Tollgate, GET /readyz (Hummingbird route)" "$gw_pid" "http://127.0.0.1:$gw/readyz"
row "Tollgate, the chat completion proxied to the mock, logged" "$gw_pid" \
    "http://127.0.0.1:$gw/v1/default/default/openai/chat/completions"
