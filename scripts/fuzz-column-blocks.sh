#!/usr/bin/env bash
# Fuzzes the columns frame decoder (Sources/TollgateStorage/Segment/ColumnBlock+Encoding.swift, what listings read
# from every sealed segment) and the listing over what it decodes (Sources/TollgateStorage/LogIndex/LogColumnScan.swift)
# with libFuzzer and the address sanitizer for a bounded time: no crash, trap or out-of-bounds read; what decodes
# encodes again to the same rows; a listing returns rows of the block, in order, that pass its filters. Seeds are
# columns frames of real records, written by the harness's own encoder.
#
#   scripts/fuzz-column-blocks.sh [seconds]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=.build/fuzz-columns
src="$out/src"
rm -rf "$src"
mkdir -p "$out/corpus" "$src"
# One module: the model's sources and the columns' and listing's, without their module imports.
for f in $(find Sources/TollgateModel -name '*.swift' -not -path '*/Signing/*') \
    Sources/TollgateStorage/Segment/{ColumnBlock,ColumnBlock+Encoding,ColumnBuilder,LogColumn,StringColumn,Wire,SegmentError}.swift \
    Sources/TollgateStorage/LogIndex/{LogColumnScan,LogIndexEntry+Columns}.swift \
    Sources/TollgateStorage/Catalog/{LogIndexEntry,LogQuery,LogMetadataJSON,RecordLocation}.swift; do
    sed -e '/^import TollgateModel$/d' "$f" > "$src/$(echo "$f" | tr '/' '_')"
done
# Seeds: a frame of no rows, and (written by the harness when it starts) the frame of six varied records.
printf '\x01\x00\x01\x00' > "$out/corpus/no-rows"
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name ColumnBlockFuzz \
    Fuzz/ColumnBlockFuzz.swift "$src"/*.swift -o "$out/column-block-fuzz"
COLUMN_FUZZ_SEEDS="$out/corpus" "$out/column-block-fuzz" -runs=0 "$out/corpus" >/dev/null 2>&1 || true
"$out/column-block-fuzz" -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=2048 -print_final_stats=1 \
    "$out/corpus"
