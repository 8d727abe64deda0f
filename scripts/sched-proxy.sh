#!/usr/bin/env bash
# Where a proxied request's time and CPU go: `tollgate serve` (release) in front of the mock provider, wrk at 32
# connections with the chat completion of scripts/bench-proxy.sh, and `perf sched` recording the scheduler for
# SECONDS in the middle of the load; then the same through nginx as a keep-alive reverse proxy (bench-proxy.sh's
# configuration). Prints wrk's figures, then per thread (the gateway's event loops NIO-*, its store thread TP-*, the
# mock's loop NIO-ELT-*, nginx's workers, wrk): CPU time in the window, context switches, and the delay between being
# woken and running (average and longest). On two saturated cores a request's tail is made of such delays on each
# thread it passes, and each thread's CPU per request is what the others wait for.
#
#   scripts/sched-proxy.sh [SECONDS, default 3]
#   BIN=path/to/tollgate   the binary to measure (default: a release build of this checkout)
#   STORE_NICE=N           renice the store's thread to N before the load (a trial of its priority)
#   STORE_BATCH=1          put the store's thread in SCHED_BATCH before the load (a trial of its wake-ups: a batch
#                          thread never preempts the running one when it wakes)
#   LOOP_SLICE_US=N        give the gateway's event loops a time slice of N µs (sched_setattr's sched_runtime for
#                          SCHED_OTHER, Linux 6.12 and later) before the load (a trial of their latency)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh wrk linux-perf nginx-light
seconds="${1:-3}"
work=$(mktemp -d)
source scripts/lib-servers.sh
release_binary
start_mock_and_gateway
write_chat_request_lua "$work/post.lua"
url="http://127.0.0.1:$gw_port/v1/default/default/openai/chat/completions"
wrk -t 2 -c 32 -d 3s -s "$work/post.lua" "$url" >/dev/null
if [ -n "${LOOP_SLICE_US:-}" ]; then
    for task in /proc/$gw/task/*; do
        case "$(cat "$task/comm")" in
            NIO-*)
                python3 - "${task##*/}" "$LOOP_SLICE_US" <<'PY'
import ctypes, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
# struct sched_attr: size, policy, flags, nice, priority, runtime, deadline, period (SCHED_OTHER, runtime = slice)
attr = struct.pack("=IIQiIQQQ", 48, 0, 0, 0, 0, int(sys.argv[2]) * 1000, 0, 0)
if libc.syscall(314, int(sys.argv[1]), ctypes.c_char_p(attr), 0) != 0:  # SYS_sched_setattr on x86_64
    sys.exit(f"sched_setattr: errno {ctypes.get_errno()}")
PY
                ;;
        esac
    done
fi
# The store's thread (TP-*): its thread id.
store_thread() {
    for task in /proc/$gw/task/*; do
        case "$(cat "$task/comm")" in TP-*) echo "${task##*/}" ;; esac
    done
}
if [ -n "${STORE_NICE:-}" ]; then
    for tid in $(store_thread); do renice -n "$STORE_NICE" -p "$tid" >/dev/null; done
fi
if [ -n "${STORE_BATCH:-}" ]; then
    for tid in $(store_thread); do chrt --batch -p 0 "$tid"; done
fi
# measure NAME URL: wrk for SECONDS + 4 s, the scheduler recorded for SECONDS from its third second.
measure() {
    echo "== $1"
    wrk -t 2 -c 32 -d "$(( seconds + 4 ))s" --latency -s "$work/post.lua" "$2" > "$work/wrk.txt" &
    local load=$!
    sleep 2
    perf sched record -o "$work/sched.data" -- sleep "$seconds" >/dev/null 2>&1
    wait "$load"
    awk '/Requests\/sec/ {print "requests/s", $2} $1=="50%" || $1=="99%" {print "p" substr($1, 1, 2), $2}' "$work/wrk.txt"
    echo
    echo "| thread | CPU ms | switches | wait avg ms | wait max ms |"
    echo "|---|---:|---:|---:|---:|"
    perf sched latency -i "$work/sched.data" --sort runtime 2>/dev/null \
        | awk -F'|' '/NIO-|TP-|wrk|nginx/ {
            gsub(/ +/, " ", $0); split($2, r, " "); split($4, a, " "); split($5, m, " ")
            name = $1; gsub(/^ +| +$/, "", name); sw = $3; gsub(/ /, "", sw)
            printf "| %s | %s | %s | %s | %s |\n", name, r[1], sw, a[2], m[2] }'
    echo
}
measure tollgate "$url"

nginx_port=$(free_port)
write_nginx_conf "$work/nginx.conf" "$nginx_port" "$mock_port"
nginx -c "$work/nginx.conf" -p "$work" & pids+=($!)
wait_port "$nginx_port"
wrk -t 2 -c 32 -d 3s -s "$work/post.lua" "http://127.0.0.1:$nginx_port/v1/chat/completions" >/dev/null
measure nginx "http://127.0.0.1:$nginx_port/v1/chat/completions"
