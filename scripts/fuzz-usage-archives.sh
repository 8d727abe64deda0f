#!/usr/bin/env bash
# Fuzzes the usage archive decoder (Sources/TollgateStorage/Segment/UsageArchive.swift, what a rollup rebuild reads
# in place of a dropped segment) with libFuzzer and the address sanitizer for a bounded time: no crash, trap or
# out-of-bounds read; entries that decode are written into an archive again and read back the same; compression
# changes nothing. Seeds are an archive of real usage records, written by the harness with the archive's own
# builder, and its fields and entries.
#
#   scripts/fuzz-usage-archives.sh [seconds]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-fuzz.sh
fuzz_setup fuzz-usage
# One module: the model's sources and the archive's.
fuzz_model_sources
fuzz_sources \
    Sources/TollgateStorage/Segment/{UsageArchive,RecordCodec,RecordCodec+Decode,RecordField,LogColumn,Wire,SegmentError,SegmentFormat,SegmentFile,CRC32C}.swift \
    Sources/TollgateStorage/Zstd/{ZstdError,ZstdCompressor,ZstdDecompressor,ZstdDictionary,ZstdDecompressionDictionary}.swift \
    Sources/TollgateStorage/Catalog/{RecordLocation,LogMetadataJSON}.swift
# shellcheck disable=SC2046
fuzz_build UsageArchiveFuzz UsageArchiveFuzz.swift -I Sources/CZstd -lzstd $(fuzz_crc32c)
fuzz_seed
fuzz_run "${1:-60}" -max_len=8192
