#!/usr/bin/env bash
# Fuzzes the columns frame decoder (Sources/TollgateStorage/Segment/ColumnBlock+Encoding.swift, what listings read
# from every sealed segment) and the listing over what it decodes (Sources/TollgateStorage/LogIndex/LogColumnScan.swift)
# with libFuzzer and the address sanitizer for a bounded time: no crash, trap or out-of-bounds read; what decodes
# encodes again to the same rows; one row walked to is that row of the decode (of a version 5 frame's group too); a
# listing returns rows of the block,
# in order, that pass its filters. Seeds are
# columns frames of real records, written by the harness's own encoder.
#
#   scripts/fuzz-column-blocks.sh [seconds]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-fuzz.sh
fuzz_setup fuzz-columns
# One module: the model's sources and the columns' and listing's.
fuzz_model_sources
fuzz_sources \
    Sources/TollgateStorage/Segment/{ColumnBlock,ColumnBlock+Encoding,ColumnBlock+Row,ColumnBuilder,ColumnGroups,CRC32C,IntegerColumn,LogColumn,PackedIntegers,RecordField,StringColumn,StringDictionary,Wire,SegmentError}.swift \
    Sources/TollgateStorage/LogIndex/{LogColumnScan,LogIndexEntry+Columns}.swift \
    Sources/TollgateStorage/Catalog/{LogIndexEntry,LogQuery,LogMetadataJSON,RecordLocation}.swift
# Seeds: a frame of no rows, and (written by the harness) the frame of six varied records.
printf '\x01\x00\x01\x00' > "$corpus/no-rows"
fuzz_build ColumnBlockFuzz ColumnBlockFuzz.swift $(fuzz_crc32c)
fuzz_seed
fuzz_run "${1:-60}" -max_len=16384
