#!/usr/bin/env bash
# Proxy benchmark (release build): requests/s and latency percentiles, direct to the mock provider vs through
# nginx (a plain reverse proxy, the reference for what a proxy can do on this machine) vs through Tollgate with
# logging on, with cf-aig-collect-log: false, for a free account at 99 % of its monthly log quota (99,000 logs
# generated first; stop_inserting), and for an account at its quota with `reject` (every request answered 429 by the
# gateway), at 1 and 32 connections; then logging on at 32 connections while a retention and compaction pass runs
# (EXPIRED_RECORDS expired logs, default 500,000); then a cache hit on every request at 32 connections (a gateway
# with cache_ttl, warmed with one request), next to nginx serving the same response bytes from a file. Load from wrk.
# Prints a Markdown table.
#
#   scripts/bench-proxy.sh [seconds per run, default 10]
#   BENCH=cache scripts/bench-proxy.sh [seconds]   # only the cache rows (and mock direct, nginx → mock)
#   BENCH=controls scripts/bench-proxy.sh [seconds]   # controls configured but never acting, beside controls off:
#     a rate limit never reached, retries configured (3 attempts) on a provider that never fails; the runs alternate
#     (off, rate limit, retries, twice) and each is compared with the mean of the two runs with controls off
#   BENCH=single scripts/bench-proxy.sh [seconds]   # one connection only: direct, nginx, Tollgate with logging on
#     and off (the overhead over calling the mock directly)
#   BIN=path scripts/bench-proxy.sh …   # that tollgate binary instead of a release build of this checkout
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh nginx-light wrk
duration="${1:-10}"
mode="${BENCH:-all}"
work=$(mktemp -d)
source scripts/lib-servers.sh
release_binary

mock_port=$(free_port); nginx_port=$(free_port); gw_port=$(free_port)
"$bin" mock-provider --port "$mock_port" >/dev/null 2>&1 & pids+=($!)
wait_port "$mock_port"

static_port=$(free_port)
mkdir -p "$work/static/v1"
chmod 755 "$work" "$work/static" "$work/static/v1"  # nginx's workers read the file as another user
write_nginx_conf "$work/nginx.conf" "$nginx_port" "$mock_port" "    # The cached response's bytes from a file (a POST to a static file answers it via the 405 page).
    server {
        listen 127.0.0.1:$static_port;
        root $work/static;
        default_type application/json;
        error_page 405 =200 \$uri;
    }"
nginx -c "$work/nginx.conf" -p "$work" & pids+=($!)
wait_port "$nginx_port"

# A free account at 99 % of its 100,000-log month before the run.
[ "$mode" != all ] || "$bin" generate --data "$work/data" --account quota99 --records 99000 --days 1 --no-payload --seed 7 >/dev/null 2>&1
# Logs past their retention (free tier: 30 days), for a retention and compaction pass during the last run.
expired_records="${EXPIRED_RECORDS:-500000}"
[ "$mode" != all ] || "$bin" generate --data "$work/data" --account expired --records "$expired_records" --days 20 --seed 9 \
    --end "$(date -u -d '45 days ago' +%Y-%m-%dT%H:%M:%SZ)" >/dev/null 2>&1

TOLLGATE_ADMIN_TOKEN=bench "$bin" serve --port "$gw_port" --data "$work/data" \
    --upstream "openai=http://127.0.0.1:$mock_port/v1" --log-level error >/dev/null 2>&1 & gw_pid=$!; pids+=($gw_pid)
wait_port "$gw_port"

api() { curl -sf -X "$1" -H 'Authorization: Bearer bench' -H 'Content-Type: application/json' \
    "http://127.0.0.1:$gw_port/api/v1/$2" ${3:+-d "$3"} >/dev/null; }
unlimited_default_account "$gw_port"
if [ "$mode" = all ]; then
    api PATCH accounts/quota99 '{"tier":"free","log_limit":null,"log_management_strategy":"stop_inserting"}'
    api POST accounts '{"id":"quota-reject","tier":"free"}'
    api POST accounts/quota-reject/gateways '{"id":"default"}'
    api PATCH accounts/quota-reject '{"log_limit":0,"log_management_strategy":"reject"}'
    api PATCH accounts/expired '{"retention_days":30}'
fi
api POST accounts/default/gateways '{"id":"cached","cache_ttl":86400}'
api POST accounts/default/gateways '{"id":"rated","rate_limiting_limit":1000000000,"rate_limiting_interval":60}'
api POST accounts/default/gateways '{"id":"retrying","retry_max_attempts":3,"retry_delay":100}'

write_chat_request_lua "$work/post.lua"

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

# cache_run -> prints the cache rows (32 connections): one request stores the response, every later one is a hit.
cache_run() {
    local url="http://127.0.0.1:$gw_port/v1/default/cached/openai/chat/completions"
    local body
    body=$(awk -F"'" '/wrk.body/ {print $2}' "$work/post.lua")
    curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer sk-bench' -d "$body" "$url"
    sleep 1
    curl -s -D "$work/hit.head" -o "$work/static/v1/chat-completion.json" -X POST -H 'Content-Type: application/json' \
        -H 'Authorization: Bearer sk-bench' -d "$body" "$url"
    grep -qi '^cf-aig-cache-status: HIT' "$work/hit.head" || { echo "the warm-up request was not a hit" >&2; exit 1; }
    chmod 644 "$work/static/v1/chat-completion.json"
    local s_rps s_p50 s_p99 s_err h_rps h_p50 h_p99 h_err o_rps o_p50 o_p99 o_err
    read -r s_rps s_p50 s_p99 s_err <<<"$(run static "http://127.0.0.1:$static_port/v1/chat-completion.json" 32)"
    read -r h_rps h_p50 h_p99 h_err <<<"$(run hit "$url" 32)"
    read -r o_rps o_p50 o_p99 o_err <<<"$(run hit-nolog "$url" 32 "$work/post-nolog.lua")"
    echo "| nginx, the cached bytes from a file | 32 | $s_rps | $s_p50 | $s_p99 | 1.00 |"
    echo "| tollgate, cache hit (logging on) | 32 | $h_rps | $h_p50 | $h_p99 | $(python3 -c "print(f'{$h_rps/$s_rps:.2f}')") |"
    echo "| tollgate, cache hit (cf-aig-collect-log: false) | 32 | $o_rps | $o_p50 | $o_p99 | $(python3 -c "print(f'{$o_rps/$s_rps:.2f}')") |"
    for e in "$s_err" "$h_err" "$o_err"; do [ -n "$e" ] && echo "errors: $e" >&2; done
    return 0
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m); ${duration}s per run"
echo
echo "| target | connections | requests/s | p50 | p99 | × nginx |"
echo "|---|---:|---:|---:|---:|---:|"
if [ "$mode" = controls ]; then
    gw="http://127.0.0.1:$gw_port/v1/default"
    declare -A sum=() rows=()
    for round in 1 2; do
        for target in default rated retrying; do
            read -r rps p50 p99 err <<<"$(run "$target" "$gw/$target/openai/chat/completions" 32)"
            sum[$target]=$(python3 -c "print(${sum[$target]:-0} + $rps)")
            rows[$target]+="$rps/$p50/$p99 "
            [ -n "$err" ] && echo "errors ($target): $err" >&2
        done
    done
    off=$(python3 -c "print(${sum[default]} / 2)")
    for target in default rated retrying; do
        case $target in
            default) label="controls off" ;;
            rated) label="rate limit on, never reached" ;;
            retrying) label="retries configured (3 attempts), never needed" ;;
        esac
        mean=$(python3 -c "print(${sum[$target]} / 2)")
        echo "| tollgate → mock (logging on), $label | 32 | $(python3 -c "print(f'{$mean:,.0f}')") (runs: ${rows[$target]% }) | | | $(python3 -c "print(f'{$mean/$off:.3f}')") × off |"
    done
    exit 0
fi
if [ "$mode" = cache ]; then
    read -r d_rps d_p50 d_p99 d_err <<<"$(run direct "http://127.0.0.1:$mock_port/v1/chat/completions" 32)"
    read -r n_rps n_p50 n_p99 n_err <<<"$(run nginx "http://127.0.0.1:$nginx_port/v1/chat/completions" 32)"
    read -r t_rps t_p50 t_p99 t_err <<<"$(run tollgate "http://127.0.0.1:$gw_port/v1/default/default/openai/chat/completions" 32)"
    echo "| mock direct | 32 | $d_rps | $d_p50 | $d_p99 | |"
    echo "| nginx → mock | 32 | $n_rps | $n_p50 | $n_p99 | |"
    echo "| tollgate → mock (logging on, no cache) | 32 | $t_rps | $t_p50 | $t_p99 | |"
    cache_run
    exit 0
fi
if [ "$mode" = single ]; then
    gw="http://127.0.0.1:$gw_port/v1/default/default/openai/chat/completions"
    read -r d_rps d_p50 d_p99 d_err <<<"$(run direct "http://127.0.0.1:$mock_port/v1/chat/completions" 1)"
    read -r n_rps n_p50 n_p99 n_err <<<"$(run nginx "http://127.0.0.1:$nginx_port/v1/chat/completions" 1)"
    read -r t_rps t_p50 t_p99 t_err <<<"$(run tollgate "$gw" 1)"
    read -r o_rps o_p50 o_p99 o_err <<<"$(run tollgate-nolog "$gw" 1 "$work/post-nolog.lua")"
    echo "| mock direct | 1 | $d_rps | $d_p50 | $d_p99 | |"
    echo "| nginx → mock | 1 | $n_rps | $n_p50 | $n_p99 | 1.00 |"
    echo "| tollgate → mock (logging on) | 1 | $t_rps | $t_p50 | $t_p99 | $(python3 -c "print(f'{$t_rps/$n_rps:.2f}')") |"
    echo "| tollgate → mock (cf-aig-collect-log: false) | 1 | $o_rps | $o_p50 | $o_p99 | $(python3 -c "print(f'{$o_rps/$n_rps:.2f}')") |"
    for e in "$d_err" "$n_err" "$t_err" "$o_err"; do [ -n "$e" ] && echo "errors: $e" >&2; done
    exit 0
fi
for c in 1 32; do
    read -r d_rps d_p50 d_p99 d_err <<<"$(run direct "http://127.0.0.1:$mock_port/v1/chat/completions" "$c")"
    read -r n_rps n_p50 n_p99 n_err <<<"$(run nginx "http://127.0.0.1:$nginx_port/v1/chat/completions" "$c")"
    read -r t_rps t_p50 t_p99 t_err <<<"$(run tollgate "http://127.0.0.1:$gw_port/v1/default/default/openai/chat/completions" "$c")"
    read -r o_rps o_p50 o_p99 o_err <<<"$(run tollgate-nolog "http://127.0.0.1:$gw_port/v1/default/default/openai/chat/completions" "$c" "$work/post-nolog.lua")"
    read -r q_rps q_p50 q_p99 q_err <<<"$(run quota99 "http://127.0.0.1:$gw_port/v1/quota99/default/openai/chat/completions" "$c")"
    read -r r_rps r_p50 r_p99 r_err <<<"$(run reject "http://127.0.0.1:$gw_port/v1/quota-reject/default/openai/chat/completions" "$c")"
    ratio=$(python3 -c "print(f'{$t_rps/$n_rps:.2f}')")
    ratio_off=$(python3 -c "print(f'{$o_rps/$n_rps:.2f}')")
    ratio_q=$(python3 -c "print(f'{$q_rps/$n_rps:.2f}')")
    echo "| mock direct | $c | $d_rps | $d_p50 | $d_p99 | |"
    echo "| nginx → mock | $c | $n_rps | $n_p50 | $n_p99 | 1.00 |"
    echo "| tollgate → mock (logging on) | $c | $t_rps | $t_p50 | $t_p99 | $ratio |"
    echo "| tollgate → mock (cf-aig-collect-log: false) | $c | $o_rps | $o_p50 | $o_p99 | $ratio_off |"
    echo "| tollgate → mock (free account at 99 % of its log quota) | $c | $q_rps | $q_p50 | $q_p99 | $ratio_q |"
    echo "| tollgate, quota reached with reject (429 from the gateway) | $c | $r_rps | $r_p50 | $r_p99 | |"
    for e in "$d_err" "$n_err" "$t_err" "$o_err" "$q_err"; do [ -n "$e" ] && echo "errors: $e" >&2; done
done

rss_before_pass=$(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$gw_pid/status)

# Logging on at 32 connections while a retention and compaction pass (POST /api/v1/compact) deletes the expired
# account's logs and compacts their segments on the gateway's retention thread.
started=$(date +%s.%N)
( curl -s -X POST -H 'Authorization: Bearer bench' "http://127.0.0.1:$gw_port/api/v1/compact" > "$work/compact.json"
  echo "$(date +%s.%N)" > "$work/compact.end" ) & compact_pid=$!
read -r p_rps p_p50 p_p99 p_err <<<"$(run during-pass "http://127.0.0.1:$gw_port/v1/default/default/openai/chat/completions" 32)"
wait "$compact_pid"
pass_seconds=$(python3 -c "print(f'{$(cat "$work/compact.end") - $started:.1f}')")
ratio_p=$(python3 -c "print(f'{$p_rps/$n_rps:.2f}')")
echo "| tollgate → mock (logging on) during a retention pass | 32 | $p_rps | $p_p50 | $p_p99 | $ratio_p |"
[ -n "$p_err" ] && echo "errors: $p_err" >&2
echo
echo "retention pass over $expired_records expired logs: ${pass_seconds}s (wrk ran ${duration}s); $(cat "$work/compact.json")"
echo
echo "| target | connections | requests/s | p50 | p99 | × nginx from a file |"
echo "|---|---:|---:|---:|---:|---:|"
cache_run
echo
rss=$(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$gw_pid/status)
stored=$(curl -s -H 'Authorization: Bearer bench' "http://127.0.0.1:$gw_port/api/v1/ingest")
quota=$(curl -s -H 'Authorization: Bearer bench' "http://127.0.0.1:$gw_port/api/v1/accounts/quota99/quota")
logs=$(curl -s -H 'Authorization: Bearer bench' "http://127.0.0.1:$gw_port/api/v1/accounts/default/quota" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["used"])')
echo "tollgate peak RSS: $rss ($rss_before_pass before the retention pass); ingest counters: $stored"
echo "logs stored for account default this month (every logging-on request): $logs"
echo "quota99 after the runs: $quota"
