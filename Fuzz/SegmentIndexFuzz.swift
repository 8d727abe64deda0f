import Glibc

// libFuzzer entry point for what a lookup by id reads from a sealed segment: its footer (`SegmentFooter.parse`,
// `isConsistent`, `mayContain`) and its index frame, fixed (`SegmentIndex.decode`, then `location(of:)`) or grouped
// (`GroupedIndex.decode`, and `GroupedIndex.locate`, which reads it a part at a time), built by
// scripts/fuzz-segment-index.sh together with their sources (not part of the SwiftPM package).
//
// Each input is read five ways: as a fixed index frame's payload; as a grouped one's; as a footer frame from disk;
// as a footer's fields framed with a valid checksum and magic, so arbitrary offsets, lengths and counts reach the
// consistency check; and as the tail of a sealed version 3 segment file, read the way `SegmentReader.index(of:)`
// reads it (footer, then the index frame it names, of either type, checked, then decoded). Nothing may crash or
// read out of bounds. An index that decodes must encode again to the same entries, be sorted, and find every id it
// holds at its first entry and no id it does not hold; a footer that parses must encode again to the same payload.
// A mismatch traps on purpose.

let segment: UInt32 = 7

/// An index's entries as a lookup sees them: sorted; every id found at its first entry (and, with `locate`, which
/// reads the frame a part at a time, located there too); the id just after it found only when the index holds it.
func checkEntries(_ index: SegmentIndex, locate: ((LogID) -> RecordLocation??)? = nil) {
    for i in index.ids.indices {
        if i > 0 { precondition(!(index.ids[i] < index.ids[i - 1]), "not sorted") }
        // A lookup finds the first of equal ids.
        guard i == 0 || index.ids[i - 1] != index.ids[i] else { continue }
        let expected = RecordLocation(segment: segment, offset: index.offsets[i], length: index.lengths[i])
        precondition(index.location(of: index.ids[i]) == expected, "entry \(i) not found where it is")
        if let locate { precondition(locate(index.ids[i]) == .some(expected), "entry \(i) not located where it is") }
        let id = index.ids[i]
        guard id != LogID(high: .max, low: .max) else { continue }
        let next = id.low == .max ? LogID(high: id.high + 1, low: 0) : LogID(high: id.high, low: id.low + 1)
        let after = index.ids[i...].firstIndex { $0 != id } ?? index.count
        let held = after < index.count && index.ids[after] == next
        precondition((index.location(of: next) != nil) == held, "an id found that the index does not hold")
        if !held, let locate { precondition(locate(next) == .some(nil), "an id located that the index does not hold") }
    }
}

func checkIndex(_ payload: UnsafeRawBufferPointer) {
    guard let index = try? SegmentIndex.decode(payload, segment: segment) else { return }
    precondition(payload.count == 4 + index.count * SegmentIndex.entrySize, "entries and bytes disagree")
    precondition(index.offsets.count == index.count && index.lengths.count == index.count)
    precondition(index.encode() == Array(payload), "re-encoding changed the index")
    checkEntries(index)
    // Built again from its rows in reverse append order, the index sorts them back.
    let rebuilt = SegmentIndex(
        segment: segment, ids: index.ids.reversed(), offsets: index.offsets.reversed(),
        lengths: index.lengths.reversed())
    precondition(rebuilt.ids == index.ids, "building the index again changed its order")
}

/// The bytes as a grouped index payload (type 6): one that decodes is sorted, names each row once, finds every id
/// it holds at its first entry both decoded whole and read a part at a time (`GroupedIndex.locate`), finds an id it
/// does not hold nowhere, and encodes again from its rows to the same entries.
func checkGroupedIndex(_ payload: UnsafeRawBufferPointer) {
    let bytes = Array(payload)
    func locate(_ id: LogID) -> RecordLocation?? {
        try? GroupedIndex.locate(id, segment: segment, payloadSize: bytes.count) { count, at in
            guard at >= 0, at <= bytes.count else { return [] }
            return Array(bytes[at..<min(bytes.count, at + count)])
        }
    }
    guard let index = try? GroupedIndex.decode(payload, segment: segment) else { return }
    precondition(index.offsets.count == index.count && index.lengths.count == index.count)
    checkEntries(index, locate: locate)
    // The rows in append order (locations only grow with it), built and encoded again: the same entries (equal ids
    // in append order, which a decoder does not insist on).
    let rows = index.ids.indices.sorted { index.offsets[$0] < index.offsets[$1] }
    let ids = rows.map { index.ids[$0] }
    let (offsets, lengths) = (rows.map { index.offsets[$0] }, rows.map { index.lengths[$0] })
    let canonical = SegmentIndex(segment: segment, ids: ids, offsets: offsets, lengths: lengths)
    precondition(canonical.ids == index.ids, "the rows sort to other ids")
    guard
        let again = GroupedIndex.encode(
            ids: ids, offsets: offsets, lengths: lengths, order: SegmentIndex.order(of: ids))
    else { return }
    let decoded = again.withUnsafeBytes { try? GroupedIndex.decode($0, segment: segment) }
    precondition(decoded == canonical, "encoding again changed the entries")
}

func checkFooter(_ footer: SegmentFooter, fileSize: UInt64) {
    var frame: [UInt8] = []
    SegmentFormat.appendFrame(type: .footer, flags: 0, payload: footer.encodePayload(), to: &frame)
    precondition(SegmentFooter.parse(frame: frame) == footer, "re-encoding changed the footer")
    // Consistency against the file size it claims, its neighbours and extremes: an answer, never a trap.
    let claimed = footer.columnsOffset &+ UInt64(footer.columnsLength) &+ UInt64(SegmentFormat.footerFrameSize)
    for size in [fileSize, claimed, claimed &+ 1, claimed &- 1, 0, UInt64(SegmentFormat.footerFrameSize), .max] {
        for version: UInt8 in [2, 3] { _ = footer.isConsistent(fileSize: size, version: version) }
    }
    for id in [footer.minID, footer.maxID, LogID(high: 0, low: 0), LogID(high: .max, low: .max)] {
        let may = footer.mayContain(id)
        precondition(!may || footer.recordCount > 0, "an empty segment may contain an id")
    }
}

/// What `SegmentReader.index(of:)` does with a segment file of these bytes (header then `tail`): the footer from
/// its last bytes, checked against the file's size, then the index frame it names, checked and decoded.
func readIndex(tail: [UInt8]) -> SegmentIndex? {
    let file = [UInt8](repeating: 0, count: SegmentFormat.fileHeaderSize) + tail
    let size = UInt64(file.count)
    guard file.count >= SegmentFormat.fileHeaderSize + SegmentFormat.footerFrameSize else { return nil }
    guard let footer = SegmentFooter.parse(frame: Array(file.suffix(SegmentFormat.footerFrameSize))),
        footer.isConsistent(fileSize: size, version: 3)
    else { return nil }
    checkFooter(footer, fileSize: size)
    // pread: what lies in the file from the offset, at most the length asked for.
    guard footer.indexOffset <= size else { return nil }
    let start = Int(footer.indexOffset)
    let bytes = Array(file[start..<min(file.count, start + Int(footer.indexLength))])
    let index = bytes.withUnsafeBytes { buffer -> SegmentIndex? in
        guard let header = FrameHeader.parse(buffer), header.frameLength == buffer.count,
            let type = FrameType(rawValue: header.type), type == .index || type == .groupedIndex
        else { return nil }
        let payload = UnsafeRawBufferPointer(rebasing: buffer[SegmentFormat.frameHeaderSize...])
        guard header.verifies(header: buffer, payload: payload) else { return nil }
        if type == .index { checkIndex(payload) } else { checkGroupedIndex(payload) }
        return try? SegmentIndex.decode(payload, type: type, segment: segment)
    }
    if let index {
        precondition(index.count == Int(footer.recordCount), "a consistent footer disagrees with its index")
        for id in [footer.minID, footer.maxID] where footer.mayContain(id) { _ = index.location(of: id) }
    }
    return index
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // 1. The bytes as an index frame's payload, fixed and grouped.
    bytes.withUnsafeBytes { checkIndex($0) }
    bytes.withUnsafeBytes { checkGroupedIndex($0) }
    // 2. The bytes as a footer frame read from disk.
    if let footer = SegmentFooter.parse(frame: bytes) { checkFooter(footer, fileSize: UInt64(size)) }
    // 3. The first 60 bytes as a footer's fields, framed with a valid checksum and the footer magic.
    var payload = Array(bytes.prefix(SegmentFormat.footerPayloadSize - 4))
    payload += [UInt8](repeating: 0, count: SegmentFormat.footerPayloadSize - 4 - payload.count)
    payload += SegmentFormat.footerMagic
    var frame: [UInt8] = []
    SegmentFormat.appendFrame(type: .footer, flags: 0, payload: payload, to: &frame)
    guard let footer = SegmentFooter.parse(frame: frame) else { preconditionFailure("a valid footer frame failed") }
    precondition(footer.encodePayload() == payload, "a footer's fields changed")
    checkFooter(footer, fileSize: UInt64(size))
    // 4. The bytes as the tail of a sealed segment file.
    _ = readIndex(tail: bytes)
    return 0
}

/// Writes seeds into $FUZZ_SEEDS when that is set, so the fuzzer starts from real encodings: for each index type,
/// the tail of a sealed segment (index frame, columns frame, footer) whose index holds a record appended twice, and
/// the index payload alone; and the footer payload alone. The grouped index spans three blocks and three groups,
/// with equal ids across a group's end.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    guard let directory = getenv("FUZZ_SEEDS") else { return 0 }
    func tail(type: FrameType, payload: [UInt8], ids: [LogID]) -> (tail: [UInt8], footer: [UInt8]) {
        var tail: [UInt8] = []
        SegmentFormat.appendFrame(type: type, flags: 0, payload: payload, to: &tail)
        let indexOffset = UInt64(SegmentFormat.fileHeaderSize)
        let indexLength = UInt32(tail.count)
        SegmentFormat.appendFrame(type: .columns, flags: 0, payload: [1, 0], to: &tail)
        let footer = SegmentFooter(
            indexOffset: indexOffset, indexLength: indexLength, columnsOffset: indexOffset + UInt64(indexLength),
            columnsLength: UInt32(tail.count) - indexLength, recordCount: UInt32(ids.count), minID: ids.min()!,
            maxID: ids.max()!)
        SegmentFormat.appendFrame(type: .footer, flags: 0, payload: footer.encodePayload(), to: &tail)
        return (tail, footer.encodePayload())
    }
    let ids = (0..<9).map { i in
        LogID(high: 0x0190_0000_0000_7000 + UInt64(8 - i) / 3, low: 0x8000_0000_0000_0000 + UInt64(i % 5))
    }
    let offsets = (0..<9).map { UInt64(SegmentFormat.fileHeaderSize + 120 * $0) }
    let lengths = (0..<9).map { UInt32(110 + $0) }
    var payload: [UInt8] = []
    SegmentIndex.encode(ids: ids, offsets: offsets, lengths: lengths, order: SegmentIndex.order(of: ids)) {
        payload.append(contentsOf: $0)
    }
    let fixed = tail(type: .index, payload: payload, ids: ids)
    let rows = 150
    let groupedIDs = (0..<rows).map { row in
        row == 64 ? LogID(high: 0x0190_0000_0000_7000 + 63, low: 5) : LogID(high: 0x0190_0000_0000_7000 + UInt64(row), low: 5)
    }
    let groupedOffsets = (0..<rows).map { row in
        SegmentFormat.blockLocationOffset(block: UInt64(SegmentFormat.fileHeaderSize + 4_000 * (row / 60)), slot: row % 60)
    }
    let grouped = GroupedIndex.encode(
        ids: groupedIDs, offsets: groupedOffsets, lengths: (0..<rows).map { UInt32(900 + $0) },
        order: SegmentIndex.order(of: groupedIDs))!
    let groupedTail = tail(type: .groupedIndex, payload: grouped, ids: groupedIDs)
    for (name, bytes) in [
        ("sealed-tail", fixed.tail), ("index", payload), ("footer", fixed.footer),
        ("sealed-tail-grouped", groupedTail.tail), ("index-grouped", grouped),
    ] {
        guard let file = fopen(String(cString: directory) + "/" + name, "wb") else { continue }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    return 0
}
