// libFuzzer entry point for the version 2 block frame decoder (`RecordBlock`, the path `SegmentReader` takes to
// read one record), built by scripts/fuzz-segment-blocks.sh together with the decoder's sources (not part of the
// SwiftPM package).
//
// Each input is decoded three ways: as a whole block frame from disk (header, checksum, zstd, content); as a
// block's content framed with a valid checksum (raw, and zstd-compressed), so arbitrary bytes get past the
// checksum; and as content directly. None may crash or read out of bounds; every slot that decodes must agree with
// decoding the whole block, and records that decode must survive being written into a block again. A mismatch
// traps on purpose.

nonisolated(unsafe) let decompressor = try! ZstdDecompressor()
nonisolated(unsafe) let compressor = try! ZstdCompressor(level: 1)

func decompress(_ frame: UnsafeRawBufferPointer) throws -> [UInt8] {
    // Far below the reader's limit: a fuzz input must not make the harness allocate gigabytes.
    try decompressor.decompress(frame, maxContentSize: 1 << 20)
}

func checkContent(_ content: UnsafeRawBufferPointer) {
    guard let all = try? RecordBlock.decodeAll(content) else {
        // Nothing decodes as a whole; a single slot may still fail or succeed, but must not crash.
        for slot in 0..<4 { _ = try? RecordBlock.decode(content, slot: slot) }
        return
    }
    precondition(!all.isEmpty, "a block decoded to no records")
    for (slot, entry) in all.enumerated() {
        let one = try? RecordBlock.decode(content, slot: slot, length: entry.length)
        precondition(one == entry.record, "slot \(slot) disagrees with the whole block")
    }
    var again = RecordBlock()
    for entry in all { again.append(RecordCodec.encode(entry.record)) }
    let reencoded = again.encode()
    let back = reencoded.withUnsafeBytes { try? RecordBlock.decodeAll($0) }
    precondition(back?.map(\.record) == all.map(\.record), "re-encoding changed the records")
}

func frame(flags: UInt8, payload: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    SegmentFormat.appendFrame(type: .block, flags: flags, payload: payload, to: &out)
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // 1. The bytes as a frame read from disk, for a slot named by the first byte.
    let slot = Int(bytes.first ?? 0) % 8
    _ = bytes.withUnsafeBytes { try? RecordBlock.decodeFrame($0, slot: slot, decompress: decompress) }
    // 2. The bytes as a block's content, framed with a valid checksum: raw, then compressed.
    let raw = frame(flags: 0, payload: bytes)
    let viaRaw = raw.withUnsafeBytes { try? RecordBlock.decodeFrame($0, slot: 0, decompress: decompress) }
    let direct = bytes.withUnsafeBytes { try? RecordBlock.decode($0, slot: 0) }
    precondition(viaRaw == direct, "framing changed what slot 0 decodes to")
    if let compressed = try? compressor.compress(bytes) {
        let packed = frame(flags: SegmentFormat.flagCompressed, payload: compressed)
        let viaZstd = packed.withUnsafeBytes { try? RecordBlock.decodeFrame($0, slot: 0, decompress: decompress) }
        precondition(viaZstd == direct, "compression changed what slot 0 decodes to")
    }
    // 3. The bytes as content.
    bytes.withUnsafeBytes { checkContent($0) }
    return 0
}
