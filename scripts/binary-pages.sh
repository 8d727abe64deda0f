#!/usr/bin/env bash
# Which of the binary's pages a serving gateway keeps in memory: `tollgate serve` (release) in front of the mock
# provider, RSS at rest, then wrk at 32 connections with logging on for SECONDS, then RSS again and the binary's
# present pages (`/proc/PID/pagemap`) by the ELF section their file offset falls in (pages the process wrote, such as
# relocated pointers, are marked as copies). Then how much of `.text` is resident inside and past the block of
# functions scripts/link-order.txt places first.
#
#   scripts/binary-pages.sh [SECONDS, default 6]
#   BIN=path/to/tollgate scripts/binary-pages.sh   # that binary instead of building one
#   FAULTS=1 scripts/binary-pages.sh               # also records the gateway's page faults (`perf record -e
#                                                  # page-faults -d`) and sorts those in code past the ordered block:
#                                                  # at a function without a symbol, at a listed one, at an unlisted one
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh wrk ${FAULTS:+linux-perf}
seconds="${1:-6}"
work=$(mktemp -d)
source scripts/lib-servers.sh
release_binary
bin=$(realpath "$bin")

[ -n "${FAULTS:-}" ] && gateway_launcher=(perf record -q -e page-faults -c 1 -d -o "$work/faults.data")
start_mock_and_gateway
# The gateway itself (under perf, $gw is perf's pid).
gw_pid=$(pgrep -n -f "serve --port $gw_port")
pids+=("$gw_pid")
write_chat_request_lua "$work/post.lua"

status() { grep -E "^(VmRSS|VmHWM|RssAnon|RssFile)" /proc/"$gw_pid"/status | tr -s ' \t' ' ' | paste -sd ' '; }
echo "at rest: $(status)"
wrk -t 2 -c 32 -d "${seconds}s" -s "$work/post.lua" \
    "http://127.0.0.1:$gw_port/v1/default/default/openai/chat/completions" | grep -E "Requests/sec"
echo "after the load: $(status)"

readelf -SW "$bin" >"$work/sections"
nm -n -S --defined-only "$bin" >"$work/symbols"
python3 - "$gw_pid" "$bin" "$work/sections" "$work/symbols" scripts/link-order.txt "$work/block_end" <<'PY'
import collections, re, struct, sys

pid, binary, sections_file, symbols_file, order_file, block_end_file = sys.argv[1:]
sections = []  # (file offset, size, name, address)
for line in open(sections_file):
    match = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
    if match and match.group(2) != "NOBITS" and int(match.group(3), 16):
        sections.append((int(match.group(4), 16), int(match.group(5), 16), match.group(1), int(match.group(3), 16)))
sections.sort()
present = collections.Counter()
text_pages = []
with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
    for line in open(f"/proc/{pid}/maps"):
        parts = line.split()
        if len(parts) < 6 or parts[5] != binary:
            continue
        start, end = (int(value, 16) for value in parts[0].split("-"))
        offset = int(parts[2], 16)
        pagemap.seek(start // 4096 * 8)
        entries = pagemap.read((end - start) // 4096 * 8)
        for page in range((end - start) // 4096):
            entry = struct.unpack_from("<Q", entries, page * 8)[0]
            if not entry >> 63 & 1:
                continue
            file_offset = offset + page * 4096
            name = "?"
            for section_offset, size, section, address in sections:
                if section_offset <= file_offset < section_offset + size or file_offset <= section_offset < file_offset + 4096:
                    name = section
                    if section == ".text":
                        text_pages.append(file_offset - section_offset + address)
                    break
            copied = not entry >> 61 & 1  # not a page of the file (or shared): the process's own copy
            present[name + (" (copy)" if copied else "")] += 1
print(f"the binary's present pages: {sum(present.values()) * 4096 / 2**20:.1f} MB")
for name, pages in present.most_common(12):
    print(f"  {pages * 4096 / 2**20:6.2f} MB  {name}")

listed = set(open(order_file).read().split())
block_end = 0
for line in open(symbols_file):
    parts = line.split()
    if len(parts) == 4 and parts[2] in "tTwW" and parts[3] in listed:
        block_end = max(block_end, int(parts[0], 16) + int(parts[1], 16))
inside = sum(1 for address in text_pages if address < block_end)
text_start = next(address for _, _, section, address in sections if section == ".text")
print(f"the ordered block: {max(block_end - text_start, 0) / 2**20:.2f} MB from the start of .text")
print(f".text resident: {inside * 4096 / 2**20:.2f} MB inside the ordered block, "
      f"{(len(text_pages) - inside) * 4096 / 2**20:.2f} MB past it")
with open(block_end_file, "w") as file:
    file.write(str(block_end))
PY

if [ -n "${FAULTS:-}" ]; then
    kill -INT "$gw_pid"
    wait "$gw" 2>/dev/null || true  # perf writes its file once the gateway has stopped
    perf script -i "$work/faults.data" --show-mmap-events >"$work/events" 2>/dev/null || true
    # Where the binary's first page was mapped: addresses minus this are the binary's own.
    base=$(grep -m1 -E "MMAP2.*@ 0 .*$bin\$" "$work/events" | sed -E 's/.*\[(0x[0-9a-f]+)\(.*/\1/')
    perf script -i "$work/faults.data" -F addr,ip >"$work/faults" 2>/dev/null || true
    python3 - "$base" "$work/faults" "$work/symbols" "$work/block_end" scripts/link-order.txt <<'PY'
import bisect, collections, sys

base, faults_file, symbols_file, block_end_file, order_file = sys.argv[1:]
base, block_end = int(base, 16), int(open(block_end_file).read())
listed = set(open(order_file).read().split())
functions = []
for line in open(symbols_file):
    parts = line.split()
    if len(parts) == 4 and parts[2] in "tTwW":
        functions.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
functions.sort()
starts = [function[0] for function in functions]
text_end = max(address + size for address, size, _ in functions)
kinds = collections.Counter()
for line in open(faults_file):
    parts = line.split()
    if len(parts) < 2:
        continue
    address, ip = int(parts[0], 16), int(parts[1], 16)
    offset = address - base
    if address != ip or not block_end <= offset < text_end:
        continue  # not an instruction fetch in code past the block
    index = bisect.bisect_right(starts, offset) - 1
    start, size, name = functions[index]
    if start == offset:
        kinds["at a listed function" if name in listed else "at an unlisted function"] += 1
    elif start <= offset < start + size:
        kinds["inside a function"] += 1
    else:
        kinds["at a function without a symbol"] += 1
print(f"instruction page faults past the ordered block: {sum(kinds.values())}")
for kind, count in kinds.most_common():
    print(f"  {count:5d}  {kind}")
PY
fi
