#!/usr/bin/env python3
"""Bytes of a data folder's segments by frame type, read from the frames' 10-byte headers (Segment/FORMAT.md,
"Frame"), and the dictionaries beside them. Reads only; run it on a folder no gateway is writing to.

    scripts/segment-bytes.py DATA [RECORDS]

With RECORDS (the records the folder holds), also prints bytes per record.

    BLOCKS_OUT=FILE scripts/segment-bytes.py DATA

also writes the content of every record block (decompressed with the folder's dictionary it names, by the `zstd`
command) to FILE, one after another: the bytes the writer compresses, for trying compression settings on them, e.g.
`zstd -b3 -B65536 -D DATA/dicts/ID.dict FILE`.
"""
import os
import struct
import subprocess
import sys

NAMES = {1: "record", 2: "index", 3: "columns", 4: "footer", 5: "block", 6: "grouped index"}


def dictionary_id(frame):
    """The dictionary id a zstd frame's header names (0: none)."""
    descriptor = frame[4]
    size = (0, 1, 2, 4)[descriptor & 3]
    at = 5 + (0 if descriptor & 0x20 else 1)  # the window descriptor, absent in a single-segment frame
    return int.from_bytes(frame[at:at + size], "little") if size else 0


def block_content(data, flags, payload):
    """A block frame's content: its payload, decompressed when flagged so."""
    if not flags & 1:
        return payload
    command = ["zstd", "-d", "-q", "-c"]
    ident = dictionary_id(payload)
    if ident:
        command += ["-D", os.path.join(data, "dicts", f"{ident}.dict")]
    return subprocess.run(command, input=payload, capture_output=True, check=True).stdout


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    data = sys.argv[1]
    records = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    totals = {}
    blocks_out = open(os.environ["BLOCKS_OUT"], "wb") if os.environ.get("BLOCKS_OUT") else None
    segments = os.path.join(data, "segments")
    for name in sorted(os.listdir(segments)):
        with open(os.path.join(segments, name), "rb") as f:
            content = f.read()
        if len(content) < 16 or content[:4] != b"TGSG":
            continue
        totals["file headers"] = totals.get("file headers", [0, 0])
        totals["file headers"][0] += 1
        totals["file headers"][1] += 16
        at = 16
        while at + 10 <= len(content):
            kind, flags, length = content[at], content[at + 1], struct.unpack_from("<I", content, at + 2)[0]
            if at + 10 + length > len(content):
                break  # a torn tail: recovery's business, not counted
            label = NAMES.get(kind, f"type {kind}") + (" (zstd)" if flags & 1 else "")
            entry = totals.setdefault(label, [0, 0])
            entry[0] += 1
            entry[1] += 10 + length
            if blocks_out and kind == 5:
                blocks_out.write(block_content(data, flags, content[at + 10:at + 10 + length]))
            at += 10 + length
    dicts = os.path.join(data, "dicts")
    if os.path.isdir(dicts):
        files = [os.path.join(dicts, n) for n in os.listdir(dicts) if n.endswith(".dict")]
        totals["dictionaries"] = [len(files), sum(os.path.getsize(f) for f in files)]
    everything = sum(size for _, size in totals.values())
    print("| part | count | bytes | share |" + (" bytes per record |" if records else ""))
    print("|---|---:|---:|---:|" + ("---:|" if records else ""))
    for label, (count, size) in sorted(totals.items(), key=lambda item: -item[1][1]):
        row = f"| {label} | {count:,} | {size:,} | {size / everything:.3f} |"
        if records:
            row += f" {size / records:.1f} |"
        print(row)
    print(f"| all | | {everything:,} | 1.000 |" + (f" {everything / records:.1f} |" if records else ""))


if __name__ == "__main__":
    main()
