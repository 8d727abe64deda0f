#!/usr/bin/env bash
# The proxy's memory target (release build): peak RSS of `tollgate serve` over one run at 32 connections with
# logging on (default 60 s), against the mock provider, on an empty data folder. Prints RSS every 5 s (so growth is
# seen, not only the peak), then the peak (VmHWM) and the ingest counters.
#
#   scripts/bench-memory.sh [seconds, default 60]
#   HEAPTRACK=1 scripts/bench-memory.sh [seconds]   # the gateway under heaptrack; prints its summary of what the
#                                                    # heap held at its peak (slower: fewer requests)
#   SAMPLE_MS=20 scripts/bench-memory.sh [seconds]  # also reads RSS every 20 ms from the start of the load and
#                                                    # prints the highest reading of the first second and of the run
#   BIN=path/to/tollgate scripts/bench-memory.sh    # that binary instead of building one
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh wrk ${HEAPTRACK:+heaptrack}
duration="${1:-60}"
work=$(mktemp -d)
source scripts/lib-servers.sh
release_binary

mock_port=$(free_port); gw_port=$(free_port)
"$bin" mock-provider --port "$mock_port" >/dev/null 2>&1 & pids+=($!)
wait_port "$mock_port"
launcher=()
[ -n "${HEAPTRACK:-}" ] && launcher=(heaptrack -o "$work/heap")
TOLLGATE_ADMIN_TOKEN=bench "${launcher[@]}" "$bin" serve --port "$gw_port" --data "$work/data" \
    --upstream "openai=http://127.0.0.1:$mock_port/v1" --log-level error >"$work/serve.out" 2>&1 & pids+=($!)
WAIT_PORT_SECONDS=60 wait_port "$gw_port"
gw_pid=$(pgrep -n -f "serve --port $gw_port")
unlimited_default_account "$gw_port"
write_chat_request_lua "$work/post.lua"

rss() { awk -v k="$1" '$1==k":" {printf "%.1f", $2/1024}' /proc/"$gw_pid"/status; }
echo "start: RSS $(rss VmRSS) MB"
if [ -n "${SAMPLE_MS:-}" ]; then
    cat > "$work/sample.py" <<'PY'
import sys, time
pid, every, seconds = sys.argv[1], float(sys.argv[2]) / 1000, float(sys.argv[3])
start = time.monotonic()
first = (0, 0.0)
best = (0, 0.0)
while time.monotonic() - start < seconds:
    try:
        kb = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:"))
    except (FileNotFoundError, StopIteration):
        break
    at = time.monotonic() - start
    if at < 1 and kb > first[0]:
        first = (kb, at)
    if kb > best[0]:
        best = (kb, at)
    time.sleep(every)
print(f"RSS every {every * 1000:.0f} ms: highest in the first second {first[0] / 1024:.1f} MB (at {first[1]:.2f} s), "
      f"in the run {best[0] / 1024:.1f} MB (at {best[1]:.2f} s)")
PY
    python3 "$work/sample.py" "$gw_pid" "$SAMPLE_MS" "$duration" >"$work/samples.out" &
    sampler_pid=$!
fi
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
[ -n "${SAMPLE_MS:-}" ] && { wait "$sampler_pid" || true; cat "$work/samples.out"; }
echo "requests/s: $(awk '/Requests\/sec/ {print $2}' "$work/wrk.out"); p99 $(awk '$1=="99%" {print $2}' "$work/wrk.out")"
echo "end: RSS $(rss VmRSS) MB (anonymous $(rss RssAnon) MB, files $(rss RssFile) MB); peak RSS (VmHWM) $(rss VmHWM) MB"
echo "ingest: $(curl -s -H 'Authorization: Bearer bench' "http://127.0.0.1:$gw_port/api/v1/ingest")"
echo "logs stored: $(curl -s -H 'Authorization: Bearer bench' "http://127.0.0.1:$gw_port/api/v1/accounts/default/quota" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["used"])')"
if [ -n "${HEAPTRACK:-}" ]; then
    kill -INT "$gw_pid"
    for _ in $(seq 1 600); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.1; done
    sleep 2
    file=$(ls "$work"/heap* | head -1)
    heaptrack_print -f "$file" --print-peaks 1 --print-allocators 0 --print-temporary 0 --print-leaks 0 \
        --peak-limit "${PEAKS:-20}" --sub-peak-limit "${SUBPEAKS:-3}" 2>/dev/null | sed -n '/PEAK MEMORY/,$p' | grep -v '^ *in /' | head -"${LINES_SHOWN:-300}"
fi
