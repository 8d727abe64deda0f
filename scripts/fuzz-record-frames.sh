#!/usr/bin/env bash
# Fuzzes the version 1 record frame decoder (Sources/TollgateStorage/Segment/RecordFrame.swift and
# RecordCodec+Decode.swift, what a record read, a scan and recovery take in a version 1 segment: one zstd frame per
# record, possibly with a dictionary) with libFuzzer and the address sanitizer for a bounded time: no crash, trap or
# out-of-bounds read; a decoded record encodes again to bytes that decode and encode the same; framing and
# compression change nothing. Seeds are record frames of real records, written by the harness with the writer's
# encoder and compression (with and without a dictionary the harness trains, compressed and raw).
#
#   scripts/fuzz-record-frames.sh [seconds]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-fuzz.sh
fuzz_setup fuzz-record-frames
# One module: the model's sources and the decoder's.
fuzz_model_sources
fuzz_sources \
    Sources/TollgateStorage/Segment/{RecordFrame,RecordCodec,RecordCodec+Decode,RecordField,LogColumn,FrameScanner,SegmentFile,Wire,SegmentError,SegmentFormat,CRC32C}.swift \
    Sources/TollgateStorage/Catalog/LogMetadataJSON.swift \
    Sources/TollgateStorage/Zstd/{ZstdError,ZstdCompressor,ZstdDecompressor,ZstdDictionary,ZstdDecompressionDictionary}.swift
# shellcheck disable=SC2046
fuzz_build RecordFrameFuzz RecordFrameFuzz.swift -I Sources/CZstd -lzstd $(fuzz_crc32c)
fuzz_seed
fuzz_run "${1:-60}" -max_len=8192
