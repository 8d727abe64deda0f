#!/usr/bin/env bash
# CPU per proxied request at speed, by thread: `tollgate serve` (release) in front of the mock provider, wrk at
# 32 connections sending the chat completion of scripts/bench-proxy.sh for SECONDS (after a 3 s warm-up), then the
# gateway's CPU time (user and system, from /proc) divided by the requests wrk completed: in all, on the event loops
# (NIO-*), on thread pools (TP-*: the store's thread is one) and on the rest (Swift's concurrency pool, Dispatch).
# Unlike requests/s this depends little on how the cores were shared with wrk and the mock, mostly on what the
# gateway did per request; it still moves with the machine's noise, so compare builds one after the other, more
# than once.
#
#   scripts/cpu-proxy.sh [SECONDS, default 10]
#   BIN=path/to/tollgate   the binary to measure (default: a release build of this checkout)
#   COLLECT=false          send cf-aig-collect-log: false (usage records only)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh wrk
seconds="${1:-10}"
work=$(mktemp -d)
source scripts/lib-servers.sh
release_binary
start_mock_and_gateway
write_chat_request_lua "$work/post.lua"
if [ "${COLLECT:-true}" = false ]; then
    sed -i 's/^wrk.headers\["Authorization"\]/wrk.headers["cf-aig-collect-log"] = "false"\nwrk.headers["Authorization"]/' \
        "$work/post.lua"
fi
url="http://127.0.0.1:$gw_port/v1/default/default/openai/chat/completions"
wrk -t 2 -c 32 -d 3s -s "$work/post.lua" "$url" >/dev/null

# ticks TID-OR-PID: user and system clock ticks of a thread (or of the whole process).
ticks() { awk '{ print $14, $15 }' "$1/stat"; }
snapshot() {
    for task in /proc/"$gw"/task/*; do
        echo "$(cat "$task/comm") $(ticks "$task")"
    done
}
before=$(snapshot)
out=$(wrk -t 2 -c 32 -d "${seconds}s" --latency -s "$work/post.lua" "$url")
after=$(snapshot)
requests=$(awk '/requests in/ { print $1 }' <<<"$out")
rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
hz=$(getconf CLK_TCK)
python3 - "$requests" "$rps" "$hz" <<PY
import sys
requests, rps, hz = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
def parse(text):
    out = {}
    for line in text.strip().splitlines():
        name, user, system = line.rsplit(" ", 2)
        group = "event loops" if name.startswith("NIO-") else "thread pools" if name.startswith("TP-") else "other"
        u, s = out.get(group, (0, 0))
        out[group] = (u + int(user), s + int(system))
    return out
before, after = parse("""$before"""), parse("""$after""")
print(f"{requests:,} requests in ${seconds} s ({rps:,.0f}/s), collect-log ${COLLECT:-true}")
print("| threads | user µs/request | system µs/request | total µs/request |")
print("|---|---:|---:|---:|")
total_u = total_s = 0.0
for group in ("event loops", "thread pools", "other"):
    u0, s0 = before.get(group, (0, 0)); u1, s1 = after.get(group, (0, 0))
    u = (u1 - u0) / hz * 1e6 / requests; s = (s1 - s0) / hz * 1e6 / requests
    total_u += u; total_s += s
    print(f"| {group} | {u:.1f} | {s:.1f} | {u + s:.1f} |")
print(f"| all | {total_u:.1f} | {total_s:.1f} | {total_u + total_s:.1f} |")
PY
