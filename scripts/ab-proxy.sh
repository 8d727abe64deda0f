#!/usr/bin/env bash
# Two builds of the gateway side by side, in front of one mock provider, measured in turns: wrk at 32 connections
# with the chat completion of scripts/bench-proxy.sh (logging on, every log stored), A then B, ROUNDS times. On a
# machine whose speed moves from minute to minute, runs taken in turns compare two builds where runs an hour apart
# cannot. Prints one line a run: round, build, requests/s, p50, p99.
#
#   scripts/ab-proxy.sh PATH_A PATH_B     # two release `tollgate` binaries
#   ROUNDS=N (default 4), SECS=N (default 8 s a run)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: scripts/ab-proxy.sh PATH_A PATH_B" >&2; exit 64; }
scripts/deps.sh wrk
work=$(mktemp -d)
source scripts/lib-servers.sh
mock_port=$(free_port)
"$1" mock-provider --port "$mock_port" >/dev/null 2>&1 & pids+=($!)
wait_port "$mock_port"
ports=("$(free_port)" "$(free_port)")
start_gateway "$1" "${ports[0]}" "$work/a"
start_gateway "$2" "${ports[1]}" "$work/b"
write_chat_request_lua "$work/post.lua"
path=/v1/default/default/openai/chat/completions
for port in "${ports[@]}"; do wrk -t 2 -c 32 -d 3s -s "$work/post.lua" "http://127.0.0.1:$port$path" >/dev/null; done
echo "| round | build | requests/s | p50 | p99 |"
echo "|---:|---|---:|---:|---:|"
for round in $(seq 1 "${ROUNDS:-4}"); do
    for side in 0 1; do
        wrk -t 2 -c 32 -d "${SECS:-8}s" --latency -s "$work/post.lua" "http://127.0.0.1:${ports[$side]}$path" \
            > "$work/wrk.txt"
        awk -v round="$round" -v build="$([ "$side" = 0 ] && echo A || echo B)" '
            /Requests\/sec/ {rps = $2} $1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2}
            END {printf "| %s | %s | %s | %s | %s |\n", round, build, rps, p50, p99}' "$work/wrk.txt"
    done
done
