#!/usr/bin/env bash
# The proxy's memory target (release build): peak RSS of `tollgate serve` over one run at 32 connections with
# logging on (default 60 s), against the mock provider, on an empty data folder. Prints RSS every 5 s (so growth is
# seen, not only the peak), then the peak (VmHWM) and the ingest counters.
#
#   scripts/bench-memory.sh [seconds, default 60]
#   HEAPTRACK=1 scripts/bench-memory.sh [seconds]   # the gateway under heaptrack; prints its summary of what the
#                                                    # heap held at its peak (slower: fewer requests)
#   SAMPLE_MS=20 scripts/bench-memory.sh [seconds]  # also reads RSS every 20 ms from the start of the load and
#                                                    # prints the highest reading of the first second and of the run,
#                                                    # then the readings around the run's highest: anonymous and
#                                                    # file-backed RSS, and the gateway's threads that were running
#                                                    # (R) or waiting for the disk (D, with the kernel function waited in)
#   FSYNC_DELAY_MS=250 scripts/bench-memory.sh      # a slow disk: every fsync of the gateway takes that much longer
#                                                    # (the gateway under strace, which delays the call; the other
#                                                    # system calls are not traced)
#   BIN=path/to/tollgate scripts/bench-memory.sh    # that binary instead of building one
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh wrk ${HEAPTRACK:+heaptrack} ${FSYNC_DELAY_MS:+strace}
duration="${1:-60}"
work=$(mktemp -d)
source scripts/lib-servers.sh
release_binary

[ -n "${HEAPTRACK:-}" ] && gateway_launcher=(heaptrack -o "$work/heap")
[ -n "${FSYNC_DELAY_MS:-}" ] && gateway_launcher=(strace -f -qq --seccomp-bpf -o /dev/null -e trace=fsync
    -e inject=fsync:delay_enter=$((FSYNC_DELAY_MS * 1000)))
WAIT_PORT_SECONDS=60
start_mock_and_gateway
gw_pid=$(pgrep -n -f "serve --port $gw_port")
# Under strace the gateway is strace's child: stopped on exit as well.
pids+=("$gw_pid")
write_chat_request_lua "$work/post.lua"

rss() { awk -v k="$1" '$1==k":" {printf "%.1f", $2/1024}' /proc/"$gw_pid"/status; }
echo "start: RSS $(rss VmRSS) MB"
if [ -n "${SAMPLE_MS:-}" ]; then
    cat > "$work/sample.py" <<'PY'
import os, sys, time
pid, every, seconds = sys.argv[1], float(sys.argv[2]) / 1000, float(sys.argv[3])


def status():
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            fields[key] = int(value.split()[0])
    return fields


def busy_threads():
    """The threads running (R) or in an uninterruptible wait (D, with the kernel function it waits in)."""
    threads = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = open(f"/proc/{pid}/task/{tid}/stat").read()
            state = stat[stat.rindex(")") + 2]
            if state == "R" or state == "D":
                name = stat[stat.index("(") + 1:stat.rindex(")")]
                wait = open(f"/proc/{pid}/task/{tid}/wchan").read() if state == "D" else ""
                threads.append(f"{name}:{state}" + (f"({wait})" if wait and wait != "0" else ""))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    return " ".join(sorted(threads))


start = time.monotonic()
samples = []
while time.monotonic() - start < seconds:
    try:
        fields = status()
        threads = busy_threads()
    except (FileNotFoundError, ProcessLookupError):
        break
    samples.append((time.monotonic() - start, fields.get("VmRSS", 0), fields.get("RssAnon", 0),
                    fields.get("RssFile", 0), threads))
    time.sleep(every)
first = max((s for s in samples if s[0] < 1), key=lambda s: s[1], default=(0.0, 0, 0, 0, ""))
peak = max(samples, key=lambda s: s[1], default=(0.0, 0, 0, 0, ""))
print(f"RSS every {every * 1000:.0f} ms: highest in the first second {first[1] / 1024:.1f} MB (at {first[0]:.2f} s), "
      f"in the run {peak[1] / 1024:.1f} MB (at {peak[0]:.2f} s)")
# The readings from the last one before the climb to the highest (anonymous memory no longer rising) to just after.
end = samples.index(peak) if samples else 0
begin = end
while begin > 0 and samples[begin - 1][2] < samples[begin][2]:
    begin -= 1
for at, rss, anonymous, files, threads in samples[max(0, begin - 3):end + 3]:
    print(f"  {at:6.2f} s  RSS {rss / 1024:5.1f} MB  anonymous {anonymous / 1024:5.1f}  files {files / 1024:5.1f}  {threads}")
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
