#!/usr/bin/env bash
# Recovery benchmark (release build): how long `tollgate serve` takes, after a `kill -9` under load, to answer again
# with SIZE_GB of sealed segments in its data folder (target: ready within 1 s with 10 GB).
#
# Fills a data folder with `tollgate generate` (records with payload, enough of them for SIZE_GB of segment files;
# the bytes per record come from a 20,000-record calibration run), starts the mock provider and `tollgate serve`
# on free loopback ports, drives requests through the gateway with wrk so the tail segment is unsealed and has
# commits in flight, kills the gateway with SIGKILL, starts it again on the same folder and prints the time from
# the process's start to the first 200 from GET /readyz (polled every 5 ms), and to the first from /healthz.
# RUNS restarts (load, kill -9, restart) are timed; the folder is removed at the end (KEEP=1 keeps it).
#
#   scripts/bench-recovery.sh                       # 10 GB of segments, 3 runs
#   SIZE_GB=2 RUNS=5 scripts/bench-recovery.sh
#   DATA=/path/to/folder scripts/bench-recovery.sh  # reuse a folder filled earlier (not removed)
#
# Refuses to start when the disk holding the folder has less free space than the segments and the catalog it
# will write plus 5 GB.
set -euo pipefail
cd "$(dirname "$0")/.."
size_gb="${SIZE_GB:-10}"
runs="${RUNS:-3}"
load_seconds="${LOAD_SECONDS:-3}"
scripts/deps.sh wrk
work=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench-recovery.XXXXXX")
source scripts/lib-servers.sh
scripts/release-build.sh tollgate >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
bin=$PWD/.build/release/tollgate
keep_data=""
if [ -n "${DATA:-}" ]; then
    data=$DATA
    keep_data=1
else
    data="$work/data"
    [ -z "${KEEP:-}" ] || keep_data=1
fi
if [ -n "$keep_data" ] && [ "$data" = "$work/data" ]; then
    # lib-servers.sh removes $work on exit: keep the folder outside it.
    data=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-recovery-data.XXXXXX")
    echo "data folder (kept): $data"
fi

segment_bytes() { du -sb "$1/segments" 2>/dev/null | cut -f1 || echo 0; }
target=$(awk -v g="$size_gb" 'BEGIN { printf "%.0f", g * 1024 * 1024 * 1024 }')
have=$(segment_bytes "$data")
if [ "${have:-0}" -lt "$target" ]; then
    echo "== calibration: 20,000 records"
    "$bin" generate --data "$work/calibration" --account bench --records 20000 --days 30 --seed 99 >/dev/null 2>&1
    seg_per_record=$(( $(segment_bytes "$work/calibration") / 20000 ))
    catalog_per_record=$(( $(du -cb "$work/calibration"/catalog.sqlite* | tail -1 | cut -f1) / 20000 ))
    rm -rf "$work/calibration"
    records=$(( (target - have) / seg_per_record + 1 ))
    need=$(( records * (seg_per_record + catalog_per_record) + 5 * 1024 * 1024 * 1024 ))
    free=$(( $(df -Pk "$(dirname "$data")" | awk 'NR == 2 { print $4 }') * 1024 ))
    echo "segments: $seg_per_record bytes per record, catalog about $catalog_per_record: $records records to write"
    if [ "$free" -lt "$need" ]; then
        echo "refusing: $((free >> 30)) GB free, need $((need >> 30)) GB (segments, catalog and 5 GB to spare)" >&2
        exit 1
    fi
    echo "== generate: $records records with payload over 30 days into $data"
    start=$(date +%s.%N)
    "$bin" generate --data "$data" --account bench --records "$records" --days 30 --seed 1 >/dev/null 2>&1
    awk -v a="$start" -v b="$(date +%s.%N)" -v n="$records" \
        'BEGIN { printf "generate: %.0f s (%.0f records/s)\n", b - a, n / (b - a) }'
fi
segments_gb=$(awk -v b="$(segment_bytes "$data")" 'BEGIN { printf "%.1f", b / 1024 / 1024 / 1024 }')
echo "data folder: $(du -sh "$data" | cut -f1), segments $segments_gb GB in $(ls "$data/segments" | wc -l) files"

mock_port=$(free_port)
"$bin" mock-provider --port "$mock_port" >/dev/null 2>&1 & pids+=($!)
wait_port "$mock_port"

write_chat_request_lua "$work/post.lua"

# Starts the gateway on $data and port $1 in the background (its pid in $gw_pid); its output in $work/serve-$2.log.
start_gateway() {
    TOLLGATE_ADMIN_TOKEN=bench "$bin" serve --port "$1" --data "$data" \
        --upstream "openai=http://127.0.0.1:$mock_port/v1" --log-level info >"$work/serve-$2.log" 2>&1 &
    gw_pid=$!
    pids+=($gw_pid)
}

# Time from the start of `tollgate serve` to the first 200 of /readyz and of /healthz, polled every 5 ms; then
# stops it (SIGTERM) and waits for it to exit.
cat > "$work/ready.py" <<'PY'
import http.client, os, subprocess, sys, time
port, log = sys.argv[1], sys.argv[2]
env = dict(os.environ, TOLLGATE_ADMIN_TOKEN="bench")
out = open(log, "w")
start = time.monotonic()
proc = subprocess.Popen(sys.argv[3:], stdout=out, stderr=subprocess.STDOUT, env=env)
ready = {}
while len(ready) < 2:
    if proc.poll() is not None:
        sys.exit(f"tollgate serve exited with {proc.returncode}; see {log}")
    for path in ("/readyz", "/healthz"):
        if path in ready:
            continue
        try:
            conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=1)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                ready[path] = time.monotonic() - start
            conn.close()
        except OSError:
            pass
    if time.monotonic() - start > 600:
        sys.exit("not ready after 600 s")
    time.sleep(0.005)
proc.terminate()
try:
    proc.wait(timeout=60)
except subprocess.TimeoutExpired:
    proc.kill()
    proc.wait()
print(f"{ready['/readyz']:.3f} {ready['/healthz']:.3f}")
PY

results=()
for run in $(seq 1 "$runs"); do
    port=$(free_port)
    start_gateway "$port" "load-$run"
    WAIT_PORT_SECONDS=600 wait_port "$port"
    unlimited_default_account "$port"
    # Load, and the kill while it still runs: the tail segment is unsealed, with commits in flight.
    wrk -t 2 -c 16 -d "$((load_seconds + 5))s" -s "$work/post.lua" \
        "http://127.0.0.1:$port/v1/default/default/openai/chat/completions" >"$work/wrk-$run.log" 2>&1 &
    wrk_pid=$!
    sleep "$load_seconds"
    kill -9 "$gw_pid"
    wait "$gw_pid" 2>/dev/null || true
    kill "$wrk_pid" 2>/dev/null || true
    wait "$wrk_pid" 2>/dev/null || true

    port=$(free_port)
    read -r readyz healthz < <(python3 "$work/ready.py" "$port" "$work/serve-restart-$run.log" \
        "$bin" serve --port "$port" --data "$data" --upstream "openai=http://127.0.0.1:$mock_port/v1" \
        --log-level info) || true
    [ -n "${healthz:-}" ] || { echo "restart $run failed: see the log above" >&2; exit 1; }
    # Records read back from the unsealed tail (usage records too), and the logs among them listed again (none
    # once the account is past its monthly log quota: its requests are then kept as usage records only).
    recovered=$(grep -o 'records_\(scanned\|reindexed\)[^0-9]*[0-9]*' "$work/serve-restart-$run.log" \
        | sort | paste -sd, - || true)
    echo "run $run: ready (GET /readyz 200) ${readyz} s after start, /healthz ${healthz} s${recovered:+ ($recovered)}"
    results+=("$readyz")
done
printf '%s\n' "${results[@]}" | sort -n | awk -v size="$segments_gb" \
    '{ v[NR] = $1 } END { printf "recovery with %s GB of segments: median %.3f s to ready (min %.3f, max %.3f, %d runs)\n", size, v[int((NR + 1) / 2)], v[1], v[NR], NR }'
