#!/usr/bin/env bash
# Proxy benchmark (release build): requests/s and latency percentiles, direct to the mock provider vs through
# nginx (a plain reverse proxy, the reference for what a proxy can do on this machine) vs through Tollgate with
# logging on, at 1 and 32 connections. Load from wrk. Prints a Markdown table.
#
#   scripts/bench-proxy.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh nginx-light wrk
duration="${1:-10}"
swift build -c release --product tollgate >/dev/null
bin=.build/release/tollgate
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 1 200); do (echo > /dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 did not open" >&2; exit 1; }

mock_port=$(free_port); nginx_port=$(free_port); gw_port=$(free_port)
"$bin" mock-provider --port "$mock_port" >/dev/null 2>&1 & pids+=($!)
wait_port "$mock_port"

cat > "$work/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log error;
daemon off;
events { worker_connections 4096; }
http {
    access_log off;
    upstream mock { server 127.0.0.1:$mock_port; keepalive 64; }
    server {
        listen 127.0.0.1:$nginx_port;
        location / {
            proxy_pass http://mock;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
    }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" & pids+=($!)
wait_port "$nginx_port"

TOLLGATE_ADMIN_TOKEN=bench "$bin" serve --port "$gw_port" --data "$work/data" \
    --upstream "openai=http://127.0.0.1:$mock_port/v1" --log-level error >/dev/null 2>&1 & gw_pid=$!; pids+=($gw_pid)
wait_port "$gw_port"

cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"model":"gpt-5-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Summarise the plot of a short story about a lighthouse keeper in two sentences."}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
LUA

sed 's/^wrk.headers\["Authorization"\]/wrk.headers["cf-aig-collect-log"] = "false"\nwrk.headers["Authorization"]/' \
    "$work/post.lua" > "$work/post-nolog.lua"

# run NAME URL CONNECTIONS [SCRIPT] -> "req/s p50 p99"
run() {
    local out
    out=$(wrk -t "$(( $3 < 2 ? 1 : 2 ))" -c "$3" -d "${duration}s" --latency -s "${4:-$work/post.lua}" "$2")
    local rps p50 p99
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    local errors
    errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
    echo "$rps $p50 $p99 ${errors:-}"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m); ${duration}s per run"
echo
echo "| target | connections | requests/s | p50 | p99 | × nginx |"
echo "|---|---:|---:|---:|---:|---:|"
for c in 1 32; do
    read -r d_rps d_p50 d_p99 d_err <<<"$(run direct "http://127.0.0.1:$mock_port/v1/chat/completions" "$c")"
    read -r n_rps n_p50 n_p99 n_err <<<"$(run nginx "http://127.0.0.1:$nginx_port/v1/chat/completions" "$c")"
    read -r t_rps t_p50 t_p99 t_err <<<"$(run tollgate "http://127.0.0.1:$gw_port/v1/default/default/openai/chat/completions" "$c")"
    read -r o_rps o_p50 o_p99 o_err <<<"$(run tollgate-nolog "http://127.0.0.1:$gw_port/v1/default/default/openai/chat/completions" "$c" "$work/post-nolog.lua")"
    ratio=$(python3 -c "print(f'{$t_rps/$n_rps:.2f}')")
    ratio_off=$(python3 -c "print(f'{$o_rps/$n_rps:.2f}')")
    echo "| mock direct | $c | $d_rps | $d_p50 | $d_p99 | |"
    echo "| nginx → mock | $c | $n_rps | $n_p50 | $n_p99 | 1.00 |"
    echo "| tollgate → mock (logging on) | $c | $t_rps | $t_p50 | $t_p99 | $ratio |"
    echo "| tollgate → mock (cf-aig-collect-log: false) | $c | $o_rps | $o_p50 | $o_p99 | $ratio_off |"
    for e in "$d_err" "$n_err" "$t_err" "$o_err"; do [ -n "$e" ] && echo "errors: $e" >&2; done
done
echo
rss=$(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$gw_pid/status)
stored=$(curl -s -H 'Authorization: Bearer bench' "http://127.0.0.1:$gw_port/api/v1/ingest")
echo "tollgate peak RSS: $rss; ingest counters: $stored"
