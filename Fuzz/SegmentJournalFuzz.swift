// libFuzzer entry point for the version 4 journal reader (`SegmentJournal`, `JournalFrame`: what recovery and the
// reader of an active segment read), built by scripts/fuzz-segment-journal.sh together with the reader's sources
// (not part of the SwiftPM package).
//
// Each input is read two ways: as a whole journal file of segment 1 (header, frames, checksums), and as one metadata
// frame's content, framed with a valid checksum behind a valid header so arbitrary bytes get past both. None may
// crash or read out of bounds; a frame that parses must be what the file reader finds, and every part that decodes
// must decode the same joined with an empty payload. A mismatch traps on purpose.

func readEveryPart(_ frame: JournalFrame) {
    for slot in 0..<min(frame.partCount, 64) {
        let alone = try? frame.withPart(slot) { try RecordCodec.decode($0) }
        let joined = [UInt8]().withUnsafeBytes { empty in try? frame.record(slot: slot, payload: empty) }
        precondition(alone == joined, "part \(slot) decodes differently joined with an empty payload")
    }
    _ = try? frame.withPart(frame.partCount) { $0.count }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // 1. The bytes as a journal file.
    let contents = bytes.withUnsafeBytes { SegmentJournal.contents($0, sequence: 1) }
    precondition(contents.validEnd <= bytes.count, "the valid part passes the end of the file")
    for (frame, _) in contents.frames { readEveryPart(frame) }
    // 2. The bytes as a metadata frame's content, in a journal with a valid header and checksum.
    let parsed = bytes.withUnsafeBytes { try? JournalFrame.parse($0) }
    var journal = SegmentJournal.fileHeader(sequence: 1)
    SegmentFormat.appendFrame(type: .metadata, flags: 0, payload: bytes, to: &journal)
    let framed = journal.withUnsafeBytes { SegmentJournal.contents($0, sequence: 1) }
    precondition(framed.frames.count == (parsed == nil ? 0 : 1), "the file reader and the frame parser disagree")
    if let parsed {
        precondition(framed.frames[0].end == journal.count, "a whole frame is not the end of the valid part")
        precondition(
            framed.frame(forBlockAt: parsed.blockOffset)?.frame.partCount == parsed.partCount,
            "the frame is not found by its block")
        readEveryPart(parsed)
    }
    return 0
}
