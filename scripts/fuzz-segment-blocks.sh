#!/usr/bin/env bash
# Fuzzes the segment format version 2 block frame decoder (Sources/TollgateStorage/Segment/RecordBlock.swift, the
# path a single record read takes) with libFuzzer and the address sanitizer for a bounded time: no crash, trap or
# out-of-bounds read; each slot agrees with the whole block; framing and compression change nothing. Seeds are two
# hand-made block contents; the harness frames and compresses what it is given itself.
#
#   scripts/fuzz-segment-blocks.sh [seconds]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-fuzz.sh
fuzz_setup fuzz-blocks
# One module: the model's sources and the decoder's.
fuzz_model_sources
fuzz_sources \
    Sources/TollgateStorage/Segment/{RecordBlock,RecordCodec,RecordCodec+Decode,RecordField,LogColumn,Wire,SegmentError,SegmentFormat,CRC32C}.swift \
    Sources/TollgateStorage/Catalog/LogMetadataJSON.swift \
    Sources/TollgateStorage/Zstd/{ZstdError,ZstdCompressor,ZstdDecompressor,ZstdDictionary,ZstdDecompressionDictionary}.swift
printf '\x01\x01\x00' > "$corpus/one-empty-record"
printf '\x02\x02\x02\x01\x00\x01\x00' > "$corpus/two-records"
# shellcheck disable=SC2046
fuzz_build SegmentBlockFuzz SegmentBlockFuzz.swift -I Sources/CZstd -lzstd $(fuzz_crc32c)
fuzz_run "${1:-60}" -max_len=8192
