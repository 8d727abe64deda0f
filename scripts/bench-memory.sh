#!/usr/bin/env bash
# The proxy's memory target (release build): peak RSS of `tollgate serve` over one run at 32 connections with
# logging on (default 60 s), against the mock provider, on an empty data folder. Prints RSS every 5 s (so growth is
# seen, not only the peak), then the peak (VmHWM) and the ingest counters.
#
#   scripts/bench-memory.sh [seconds, default 60]
#   HEAPTRACK=1 scripts/bench-memory.sh [seconds]   # the gateway under heaptrack; prints its summary of what the
#                                                    # heap held at its peak (slower: fewer requests)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh wrk ${HEAPTRACK:+heaptrack}
duration="${1:-60}"
swift build -c release --product tollgate >/dev/null
bin=.build/release/tollgate
work=$(mktemp -d)
source scripts/lib-servers.sh

mock_port=$(free_port); gw_port=$(free_port)
"$bin" mock-provider --port "$mock_port" >/dev/null 2>&1 & pids+=($!)
wait_port "$mock_port"
launcher=()
[ -n "${HEAPTRACK:-}" ] && launcher=(heaptrack -o "$work/heap")
TOLLGATE_ADMIN_TOKEN=bench "${launcher[@]}" "$bin" serve --port "$gw_port" --data "$work/data" \
    --upstream "openai=http://127.0.0.1:$mock_port/v1" --log-level error >"$work/serve.out" 2>&1 & pids+=($!)
WAIT_PORT_SECONDS=60 wait_port "$gw_port"
gw_pid=$(pgrep -n -f "serve --port $gw_port")
write_chat_request_lua "$work/post.lua"

rss() { awk -v k="$1" '$1==k":" {printf "%.1f", $2/1024}' /proc/"$gw_pid"/status; }
echo "start: RSS $(rss VmRSS) MB"
wrk -t 2 -c 32 -d "${duration}s" --latency -s "$work/post.lua" \
    "http://127.0.0.1:$gw_port/v1/default/default/openai/chat/completions" >"$work/wrk.out" & wrk_pid=$!
elapsed=0
while kill -0 "$wrk_pid" 2>/dev/null; do
    sleep 5
    elapsed=$((elapsed + 5))
    kill -0 "$wrk_pid" 2>/dev/null && echo "${elapsed}s: RSS $(rss VmRSS) MB; ingest $(curl -s -H 'Authorization: Bearer bench' "http://127.0.0.1:$gw_port/api/v1/ingest")"
done
wait "$wrk_pid"
sleep 1
echo "requests/s: $(awk '/Requests\/sec/ {print $2}' "$work/wrk.out"); p99 $(awk '$1=="99%" {print $2}' "$work/wrk.out")"
echo "end: RSS $(rss VmRSS) MB (anonymous $(rss RssAnon) MB, files $(rss RssFile) MB); peak RSS (VmHWM) $(rss VmHWM) MB"
echo "ingest: $(curl -s -H 'Authorization: Bearer bench' "http://127.0.0.1:$gw_port/api/v1/ingest")"
if [ -n "${HEAPTRACK:-}" ]; then
    kill -INT "$gw_pid"
    for _ in $(seq 1 600); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.1; done
    sleep 2
    file=$(ls "$work"/heap* | head -1)
    heaptrack_print -f "$file" --print-peaks 1 --print-allocators 0 --print-temporary 0 --print-leaks 0 \
        --peak-limit "${PEAKS:-20}" --sub-peak-limit "${SUBPEAKS:-3}" 2>/dev/null | sed -n '/PEAK MEMORY/,$p' | grep -v '^ *in /' | head -"${LINES_SHOWN:-300}"
fi
