#!/usr/bin/env bash
# Writes scripts/link-order.txt, the order in which scripts/release-build.sh has the linker place the functions a
# serving gateway runs: first every function it ran under the load of scripts/bench-memory.sh, the most instructions
# first, then the rest of the binary as the linker lays it out. Code the gateway runs then sits in a few megabytes
# together instead of across the binary's 27 MB of code, and the kernel, which maps the pages around each one it
# faults in, maps far fewer of them (README, "The code a serving gateway runs, placed together").
#
# `tollgate serve` (a release build of this checkout) runs under valgrind's callgrind in front of the mock provider:
# start, the default account's quota lifted over the API, wrk at 32 connections with the chat completion of the
# benchmarks for SECONDS, logging on and then `cf-aig-collect-log: false`, the ingest counters read, then a clean stop
# (SIGTERM). Every function callgrind saw run in the binary goes in the file, by its symbol (C++ names as the linker
# knows them). A function missing from the file (new code, a renamed one) is only placed with the rest: the order is
# an optimization of memory, never of behaviour, and is rewritten by running this script again.
#
#   scripts/link-order.sh [SECONDS, default 20]
#   BIN=path/to/tollgate scripts/link-order.sh   # profile that release binary instead of building one
#   OUT=path scripts/link-order.sh               # write the list there instead
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh valgrind wrk
seconds="${1:-20}"
out="${OUT:-scripts/link-order.txt}"
source scripts/lib-callgrind.sh
measured_copy tollgate "${BIN:-}"
source scripts/lib-servers.sh
sigsuspend_shim

gateway_launcher=(env LD_PRELOAD="$work/shim.so" valgrind --tool=callgrind
    --callgrind-out-file="$work/callgrind.out" --log-file="$work/valgrind.log")
bin=$work/tollgate  # the copy valgrind reads, for the mock as well
WAIT_PORT_SECONDS=120  # under valgrind the gateway starts slowly
start_mock_and_gateway
write_chat_request_lua "$work/post.lua"
url="http://127.0.0.1:$gw_port/v1/default/default/openai/chat/completions"
wrk -t 2 -c 32 -d "${seconds}s" --timeout 10s -s "$work/post.lua" "$url" | grep -E "Requests/sec" || true
wrk -t 2 -c 32 -d "$((seconds / 2))s" --timeout 10s -s "$work/post.lua" -H "cf-aig-collect-log: false" "$url" \
    | grep -E "Requests/sec" || true
curl -sf -H "Authorization: Bearer bench" "http://127.0.0.1:$gw_port/api/v1/ingest" >/dev/null || true
kill -TERM "$gw"
wait "$gw" || true

nm -n -S --defined-only "$bin" >"$work/symbols"
nm -n -S -C --defined-only "$bin" >"$work/demangled"
python3 - "$work/callgrind.out" "$work/symbols" "$work/demangled" "$out" <<'PY'
import collections, re, sys

profile, symbols, demangled, out = sys.argv[1:]
# Instructions spent in each function itself (callgrind's "fn=" blocks; the line after "calls=" is a call's inclusive
# cost and is skipped).
cost = collections.Counter()
names = {}
current, after_call = None, False
for line in open(profile, errors="replace"):
    line = line.rstrip("\n")
    match = re.match(r"^(c?)fn=\((\d+)\)(?: (.*))?$", line)
    if match:
        if match.group(3):
            names[match.group(2)] = match.group(3)
        if not match.group(1):
            current, after_call = names.get(match.group(2)), False
            if current is not None:
                cost[current] += 0
        continue
    if line.startswith("calls="):
        after_call = True
        continue
    if current and line and (line[0].isdigit() or line[0] in "+-*"):
        if after_call:
            after_call = False
            continue
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            cost[current] += int(parts[1])


def functions(path):
    """(name, size) of each function symbol, or None for another line; `nm -S` lines: address, size, type, name."""
    rows = []
    for line in open(path):
        parts = line.rstrip("\n").split(None, 3)
        rows.append((parts[3], int(parts[1], 16)) if len(parts) == 4 and parts[2] in "tTwW" else None)
    return rows


# callgrind names C++ functions demangled; the linker needs them as the symbol table has them (same order in both
# listings: by address).
linked, by_demangled = {}, {}
for plain, readable in zip(functions(symbols), functions(demangled)):
    if plain:
        linked[plain[0]] = plain[1]
        if readable and readable[0] != plain[0]:
            by_demangled.setdefault(readable[0], plain[0])
ordered, seen = [], set()
for name, _ in sorted(cost.items(), key=lambda item: -item[1]):
    name = re.sub(r"'\d+$", "", name)  # callgrind's mark of a recursion level
    symbol = name if name in linked else by_demangled.get(name)
    if symbol and symbol not in seen:
        seen.add(symbol)
        ordered.append(symbol)
with open(out, "w") as file:
    file.write("\n".join(ordered) + "\n")
size = sum(linked[symbol] for symbol in ordered)
print(f"{out}: {len(ordered)} functions, {size / 2**20:.2f} MB of code")
PY
