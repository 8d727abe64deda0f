#!/usr/bin/env bash
# Fuzzes the segment format version 2 block frame decoder (Sources/TollgateStorage/Segment/RecordBlock.swift, the
# path a single record read takes) with libFuzzer and the address sanitizer for a bounded time: no crash, trap or
# out-of-bounds read; each slot agrees with the whole block; framing and compression change nothing. Seeds are two
# hand-made block contents; the harness frames and compresses what it is given itself.
#
#   scripts/fuzz-segment-blocks.sh [seconds]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=.build/fuzz-blocks
src="$out/src"
rm -rf "$src"
mkdir -p "$out/corpus" "$src"
# One module: the model's sources and the decoder's, without their module imports.
for f in $(find Sources/TollgateModel -name '*.swift' -not -path '*/Signing/*') \
    Sources/TollgateStorage/Segment/{RecordBlock,RecordCodec,RecordCodec+Decode,Wire,SegmentError,SegmentFormat,CRC32C}.swift \
    Sources/TollgateStorage/Zstd/{ZstdError,ZstdCompressor,ZstdDecompressor,ZstdDictionary,ZstdDecompressionDictionary}.swift; do
    sed -e '/^import TollgateModel$/d' "$f" > "$src/$(echo "$f" | tr '/' '_')"
done
printf '\x01\x01\x00' > "$out/corpus/one-empty-record"
printf '\x02\x02\x02\x01\x00\x01\x00' > "$out/corpus/two-records"
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name SegmentBlockFuzz -I Sources/CZstd -lzstd \
    Fuzz/SegmentBlockFuzz.swift "$src"/*.swift -o "$out/segment-block-fuzz"
"$out/segment-block-fuzz" -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 -print_final_stats=1 \
    "$out/corpus"
