#!/usr/bin/env bash
# What one proxied request costs the gateway, in counts that do not move with the machine's load: instructions
# (valgrind's callgrind) and heap allocations (valgrind's DHAT), per request, with logging on and with
# `cf-aig-collect-log: false`. Everything the gateway process does is counted — proxy, ingest queue, record
# building and the store — from start to a clean stop (SIGTERM: the queue drained, the segment sealed).
#
# `tollgate serve` runs under valgrind in front of `tollgate mock-provider`; one keep-alive client sends the chat
# completion of scripts/bench-proxy.sh, FEW then MANY requests in two runs; the difference of the two counts over
# MANY − FEW is one request's cost (start-up and shutdown cancel out). FEW is past the 1,000 records after which the
# store trains its zstd dictionary, so that one-off cost is in both runs. Group commits are time-based and valgrind
# runs the gateway some fifty times slower, so a commit holds far fewer records than under real load: the commit
# interval is 1 s here (200 ms by default) to keep that share closer to what it is at speed, and the event loops'
# own share (the proxy up to the ingest queue) is printed apart; it does not depend on timing.
#
#   scripts/cost-proxy.sh [path to a release tollgate binary, default: build one]
#   KEEP=PREFIX scripts/cost-proxy.sh [binary]  # also keep each run's profiles: PREFIX.COUNT.COLLECT.callgrind
#                                               # (callgrind_annotate) and PREFIX.COUNT.COLLECT.dhat (allocation
#                                               # sites; DHAT's dh_view.html)
#   COST=cache scripts/cost-proxy.sh [binary]   # logging on, uncached beside a cache hit on every request (a
#                                               # gateway with cache_ttl; the first request stores, the rest hit)
#   COST=controls scripts/cost-proxy.sh [binary]   # logging on, controls off beside controls that never act: a
#                                                  # rate limit never reached, retries configured and never needed
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh valgrind
source scripts/lib-callgrind.sh
measured_copy tollgate "${1:-}"
sigsuspend_shim
few="${FEW:-1100}"
many="${MANY:-2100}"
WAIT_PORT_SECONDS=${WAIT_PORT_SECONDS:-120}  # under valgrind the gateway starts slowly
source scripts/lib-servers.sh

mock_port=$(free_port)
"$bin" mock-provider --port "$mock_port" >/dev/null 2>&1 & pids+=($!)
wait_port "$mock_port"

# send PORT COUNT COLLECT_LOG GATEWAY: COUNT requests on one keep-alive connection.
send() {
    python3 - "$1" "$2" "$3" "$4" <<'PY'
import http.client, sys
port, count, collect, gateway = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
body = '{"model":"gpt-5-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Summarise the plot of a short story about a lighthouse keeper in two sentences."}]}'
headers = {"Content-Type": "application/json", "Authorization": "Bearer sk-bench"}
if collect == "false":
    headers["cf-aig-collect-log"] = "false"
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
for _ in range(count):
    conn.request("POST", f"/v1/default/{gateway}/openai/chat/completions", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"status {response.status}")
conn.close()
PY
}

# measure TOOL COUNT COLLECT_LOG [GATEWAY] -> prints the tool's total (instructions, or allocations); the gateway
# `cached` has cache_ttl set, `rated` a rate limit it never reaches, `retrying` three attempts.
measure() {
    local tool=$1 count=$2 collect=$3 gateway=${4:-default} port dir
    port=$(free_port)
    dir=$(mktemp -d -p "$work")
    local args=(--tool="$tool")
    if [ "$tool" = callgrind ]; then
        args+=(--callgrind-out-file="$dir/out")
    else
        args+=(--dhat-out-file="$dir/out")
    fi
    TOLLGATE_ADMIN_TOKEN=cost LD_PRELOAD="$work/shim.so" valgrind "${args[@]}" --log-file="$dir/log" "$work/tollgate" serve --port "$port" \
        --data "$dir/data" --upstream "openai=http://127.0.0.1:$mock_port/v1" --log-level error --commit-interval-ms 1000 \
        >/dev/null 2>&1 &
    local pid=$!
    wait_port "$port"
    local settings=""
    case $gateway in
        cached) settings='"cache_ttl":86400' ;;
        rated) settings='"rate_limiting_limit":1000000000,"rate_limiting_interval":60' ;;
        retrying) settings='"retry_max_attempts":3,"retry_delay":100' ;;
    esac
    if [ -n "$settings" ]; then
        curl -sf -X POST -H 'Authorization: Bearer cost' -H 'Content-Type: application/json' \
            "http://127.0.0.1:$port/api/v1/accounts/default/gateways" -d "{\"id\":\"$gateway\",$settings}" >/dev/null
    fi
    send "$port" "$count" "$collect" "$gateway"
    kill -TERM "$pid"
    wait "$pid" || true
    if [ "$tool" = callgrind ]; then
        [ -n "${KEEP:-}" ] && cp "$dir/out" "$KEEP.$count.$collect.callgrind"
        # The whole process, and the event loops alone (SelectableEventLoop.run, inclusive).
        echo "$(awk '/^totals:/ {print $2}' "$dir/out") $(callgrind_annotate --inclusive=yes --threshold=100 "$dir/out" \
            | awk '/SelectableEventLoopC3runyyKF \[/ {gsub(",", "", $1); print $1; exit}')"
    else
        [ -n "${KEEP:-}" ] && cp "$dir/out" "$KEEP.$count.$collect.dhat"
        sed -n 's/.*Total: *[0-9,]* bytes in \([0-9,]*\) blocks.*/\1/p' "$dir/log" | tr -d ,
    fi
}

echo "| logging | instructions per request | of which event loops | allocations per request |"
echo "|---|---:|---:|---:|"
if [ "${COST:-}" = controls ]; then
    for gateway in default rated retrying; do
        read -r i1 e1 <<<"$(measure callgrind "$few" true "$gateway")"
        read -r i2 e2 <<<"$(measure callgrind "$many" true "$gateway")"
        a1=$(measure dhat "$few" true "$gateway")
        a2=$(measure dhat "$many" true "$gateway")
        case $gateway in
            default) label="on, controls off" ;;
            rated) label="on, rate limit never reached" ;;
            retrying) label="on, retries configured, never needed" ;;
        esac
        python3 -c "n=$many-$few; print(f'| $label | {($i2-$i1)/n:,.0f} | {($e2-$e1)/n:,.0f} | {($a2-$a1)/n:,.1f} |')"
    done
    exit 0
fi
if [ "${COST:-}" = cache ]; then
    for gateway in default cached; do
        read -r i1 e1 <<<"$(measure callgrind "$few" true "$gateway")"
        read -r i2 e2 <<<"$(measure callgrind "$many" true "$gateway")"
        a1=$(measure dhat "$few" true "$gateway")
        a2=$(measure dhat "$many" true "$gateway")
        label=$([ "$gateway" = default ] && echo "on, no cache" || echo "on, cache hit")
        python3 -c "n=$many-$few; print(f'| $label | {($i2-$i1)/n:,.0f} | {($e2-$e1)/n:,.0f} | {($a2-$a1)/n:,.1f} |')"
    done
    exit 0
fi
for collect in true false; do
    read -r i1 e1 <<<"$(measure callgrind "$few" "$collect")"
    read -r i2 e2 <<<"$(measure callgrind "$many" "$collect")"
    a1=$(measure dhat "$few" "$collect")
    a2=$(measure dhat "$many" "$collect")
    label=$([ "$collect" = true ] && echo "on" || echo "off (cf-aig-collect-log: false)")
    python3 -c "n=$many-$few; print(f'| $label | {($i2-$i1)/n:,.0f} | {($e2-$e1)/n:,.0f} | {($a2-$a1)/n:,.1f} |')"
done
