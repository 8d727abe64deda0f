#!/usr/bin/env bash
# Whole data folder on disk against the raw request and response bodies it holds, by part, per stored log.
#
# Fills DATA with `tollgate generate` (RECORDS records of account bench over 30 days, with payloads, seed 1) unless
# it holds a catalog already; `generate` prints the sum of the logs' request_size + response_size (the raw bodies).
# Then prints the bytes of each part (segments, dictionaries, usage archives, the catalog's log index and its
# rollup_* tables, by SQLite's dbstat: pages in use; and the catalog file as it is on disk, with its WAL), per log
# and as a fraction of the raw bodies.
#
# usage: scripts/bench-folder.sh [DATA=/tmp/tollgate-bench-folder] [RECORDS=1000000]
# BIN=path/to/release/bin picks the binaries (default .build/release, built by `scripts/release-build.sh tollgate tollgate-bench`).
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${1:-/tmp/tollgate-bench-folder}
RECORDS=${2:-1000000}
BIN=${BIN:-.build/release}
CATALOG="$DATA/catalog.sqlite"

if [[ ! -f "$CATALOG" ]]; then
    echo "== generate: $RECORDS records of account bench over 30 days, with payloads"
    start=$(date +%s.%N)
    "$BIN/tollgate" generate --data "$DATA" --account bench --records "$RECORDS" --days 30 --seed 1 \
        | tee "$DATA.generate.txt"
    echo "generate: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
fi
RAW=$(sed -n 's/.*raw bodies: \([0-9]*\) bytes.*/\1/p' "$DATA.generate.txt")
LOGS=$(sqlite3 "file:$CATALOG?mode=ro" "SELECT sum(stored) FROM log_counts")
dir_bytes() { if [[ -d "$1" ]]; then find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; else echo 0; fi; }
SEGMENTS=$(dir_bytes "$DATA/segments")
DICTS=$(dir_bytes "$DATA/dicts")
USAGE=$(dir_bytes "$DATA/usage")
ROLLUPS=$(sqlite3 "file:$CATALOG?mode=ro" "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'rollup_%'")
INDEX=$(sqlite3 "file:$CATALOG?mode=ro" "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name NOT LIKE 'rollup_%'")
FILE=$(( $(stat -c %s "$CATALOG") + $(stat -c %s "$CATALOG-wal" 2>/dev/null || echo 0) ))

echo "== $LOGS logs, raw request + response bodies $RAW bytes ($(awk -v r="$RAW" -v n="$LOGS" 'BEGIN { printf "%.1f", r / n }') per log)"
row() {
    awk -v name="$1" -v b="$2" -v n="$LOGS" -v r="$RAW" \
        'BEGIN { printf "%-40s %14d bytes %9.1f per log %8.4f of raw\n", name, b, b / n, b / r }'
}
row "segments" "$SEGMENTS"
row "dictionaries" "$DICTS"
row "usage archives" "$USAGE"
row "catalog: log index (all but rollup_*)" "$INDEX"
row "catalog: rollups (rollup_*)" "$ROLLUPS"
row "whole folder (parts above)" $(( SEGMENTS + DICTS + USAGE + INDEX + ROLLUPS ))
row "catalog file on disk (with WAL)" "$FILE"
row "whole folder (catalog file as on disk)" $(( SEGMENTS + DICTS + USAGE + FILE ))
