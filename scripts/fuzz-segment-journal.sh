#!/usr/bin/env bash
# Fuzzes the segment format version 4 journal reader (Sources/TollgateStorage/Segment/SegmentJournal.swift: what
# recovery and the reader of an active segment read) with libFuzzer and the address sanitizer for a bounded time:
# no crash, trap or out-of-bounds read; the file reader finds what the frame parser parses; a metadata part decodes
# the same alone and joined with a payload. Seeds are two hand-made metadata frames; the harness frames what it is
# given itself.
#
#   scripts/fuzz-segment-journal.sh [seconds]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-fuzz.sh
fuzz_setup fuzz-journal
# One module: the model's sources and the reader's.
fuzz_model_sources
fuzz_sources \
    Sources/TollgateStorage/Segment/{SegmentJournal,PartitionPoint,FrameScanner,SegmentFile,RecordBlock,RecordCodec,RecordCodec+Decode,RecordField,LogColumn,Wire,SegmentError,SegmentFormat,CRC32C}.swift \
    Sources/TollgateStorage/Catalog/LogMetadataJSON.swift \
    Sources/TollgateStorage/Zstd/{ZstdError,ZstdCompressor,ZstdDecompressor,ZstdDictionary,ZstdDecompressionDictionary}.swift
# Block at 16, one part: the version byte and an id field; block at 4096, two one-byte parts.
printf '\x10\x01\x13\x01\x0a\x10\x01\x90\xa6\xf2\x7c\x1e\x7d\x3a\x9b\x2f\x1c\x2d\x3e\x4f\x5a\x6b' > "$corpus/one-part"
printf '\x80\x20\x02\x01\x01\x01\x01' > "$corpus/two-parts"
# shellcheck disable=SC2046
fuzz_build SegmentJournalFuzz SegmentJournalFuzz.swift -I Sources/CZstd -lzstd $(fuzz_crc32c)
fuzz_run "${1:-60}" -max_len=8192
