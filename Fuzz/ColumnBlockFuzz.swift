import Glibc

// libFuzzer entry point for the columns frame decoder (`ColumnBlock.decode`, what a listing, compaction and the
// store's checks read from a sealed segment) and the listing over what it decodes (`LogColumnScan`), built by
// scripts/fuzz-column-blocks.sh together with their sources (not part of the SwiftPM package).
//
// Each input is decoded as a columns frame's content, once as it stands and once with its rows' ids and locations
// given from outside, as a version 3 segment's grouped index gives them, row by row as a version 4 record read
// walks to one (`ColumnBlock.decodeRow`), and as a version 5 grouped frame (`ColumnGroups`). Nothing may crash or read out of bounds. What decodes must
// survive encoding again unchanged, and a listing over it (every order, a string filter taken from its own
// dictionary, a cursor from its own ids) must return rows in the block, in id order, each passing the filters. A
// mismatch traps on purpose.

func check(_ block: ColumnBlock) {
    // Every column has a value for every row.
    for case .field(let field) in LogColumn.all {
        switch field.kind {
        case .strings: precondition(block.strings(field).count == block.count, "\(field) rows")
        case .bitmap: precondition(block.flags(field).count == block.count, "\(field) rows")
        case .varints, .zigzags, .nullable: precondition(block.integers(field).count == block.count, "\(field) rows")
        case .ids, .deltaVarints, .deltaZigzags, .lengths: break
        }
    }
    precondition(block.offsets.count == block.count && block.lengths.count == block.count)
    precondition(block.createdAt.count == block.count)
    // Encoding again gives the same rows (for the columns the frame held; the others read as defaults either way).
    let again = block.encode().withUnsafeBytes { try? ColumnBlock.decode($0, segment: block.segment) }
    precondition(again.map { $0.restricted(to: block.present) } == block, "re-encoding changed the rows")
    // A listing over it.
    let columns = SegmentColumns(block)
    let accounts = block.strings(.account).dictionary
    let gateways = block.strings(.gateway).dictionary
    for order in [LogQuery.Order.ascending, .descending] {
        var query = LogQuery(account: accounts.first ?? "", order: order)
        query.gateway = gateways.last
        let after = block.ids.isEmpty ? nil : block.ids[block.count / 2]
        for cursor in [nil, after] {
            let rows = LogColumnScan(query: query, after: cursor).rows(of: columns, limit: 50)
            var previous: LogID?
            for row in rows {
                precondition(row >= 0 && row < block.count, "a row outside the block")
                let id = block.ids[row]
                if let previous { precondition(order == .ascending ? previous < id : id < previous, "order") }
                if let cursor { precondition(order == .ascending ? cursor < id : id < cursor, "cursor") }
                precondition(block.flags(.logged)[row], "a usage record listed")
                precondition(block.strings(.account)[row] == query.account, "another account listed")
                precondition(query.gateway == nil || block.strings(.gateway)[row] == query.gateway, "gateway filter")
                _ = LogIndexEntry(columns: block, row: row, cost: nil, saved: nil, annotation: nil)
                previous = id
            }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    if let block = try? ColumnBlock.decode(bytes, segment: 7) { check(block) }
    // As a version 3 columns frame, whose rows' ids and locations come from its grouped index.
    let positions = { (rows: Int) -> ColumnBlock.Positions in
        (
            (0..<rows).map { LogID(high: 0x0190_0000_0000_7000, low: UInt64($0)) }, (0..<rows).map { UInt64(16 + $0) },
            Array(repeating: 100, count: rows)
        )
    }
    if let block = try? ColumnBlock.decode(bytes, segment: 7, positions: positions) {
        check(block)
        // One row walked to (a version 4 record read) is that row of the whole decode.
        for row in Set([0, block.count / 2, block.count - 1]) where row >= 0 && row < block.count {
            let one = try? ColumnBlock.decodeRow(bytes, row: row, id: block.ids[row])
            precondition(one == block.metadataRecord(row: row), "row \(row) walked to differs from the decode")
        }
    }
    // Any row of any bytes: an error or a record, never a crash.
    for row in [0, 1, 7, 1_000] { _ = try? ColumnBlock.decodeRow(bytes, row: row, id: LogID(high: 1, low: 2)) }
    // As a version 5 grouped frame whose groups are stored as they are (decompressing is zstd's part): the head,
    // the whole decode, and each group's first row read alone as a record read takes it.
    let grouped = try? ColumnBlock.decode(bytes, segment: 7, positions: positions, decompress: { Array($0) })
    if let grouped { check(grouped) }
    if let head = try? ColumnGroups.Head(bytes, payloadSize: bytes.count) {
        for g in 0..<min(head.count, 8) {
            let group = UnsafeRawBufferPointer(rebasing: bytes[head.range(of: g)])
            _ = try? head.verify(group, group: g)
            let row = g * head.groupRows
            let one = try? ColumnBlock.decodeRow(group, row: 0, id: LogID(high: 0x0190_0000_0000_7000, low: UInt64(row)), rows: head.rows(of: g))
            if let grouped { precondition(one == grouped.metadataRecord(row: row), "group \(g)'s row differs") }
        }
    }
    return 0
}

/// Writes seeds (the columns frame of a few varied records, with and without their positions) into $FUZZ_SEEDS
/// when that is set, so the fuzzer starts from the real encoding of every column.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    guard let directory = getenv("FUZZ_SEEDS") else { return 0 }
    var block = ColumnBlock(segment: 7)
    for i in 0..<6 {
        var record = LogRecord(
            id: LogID(high: 0x0190_0000_0000_7000 + UInt64(i % 4), low: 0x8000_0000_0000_0000 + UInt64(i)),
            createdAt: 1_750_000_000_000 + Int64(i), account: i == 5 ? "other" : "default",
            gateway: i % 2 == 0 ? "prod" : "edge", provider: "openai", model: i == 3 ? nil : "gpt-5",
            path: "/chat/completions", method: "POST", statusCode: i == 4 ? 500 : 200, success: i != 4,
            stream: i % 3 == 0, durationMicros: 1000 + Int64(i), ttftMicros: i == 2 ? nil : 10,
            usage: Usage(tokensIn: Int64(i), tokensOut: 2, serviceTier: i == 1 ? "flex" : nil), requestSize: 5,
            responseSize: 6, error: i == 4 ? "upstream failed" : nil,
            metadata: [MetadataEntry("user", .string("u\(i)")), MetadataEntry("n", .number(Double(i)))])
        record.logged = i != 1
        record.eventID = i == 2 ? "evt" : nil
        record.attempt = i == 2 ? 2 : 1
        record.cached = i == 3
        block.append(record, at: RecordLocation(segment: 7, offset: UInt64(16 + 100 * i), length: 100))
    }
    var builder = ColumnBuilder(segment: 7)
    for row in 0..<block.count { builder.append(row: row, of: block) }
    var withoutPositions: [UInt8] = []
    builder.encode(positions: false) { withoutPositions.append(contentsOf: $0) }
    // Groups of two rows, stored as they are.
    var groups = ColumnBuilder(segment: 7, groupRows: 2)
    for row in 0..<block.count { groups.append(row: row, of: block) }
    let contents = groups.groupContents()
    let grouped = ColumnGroups.head(rows: block.count, groupRows: 2, groups: contents) + contents.joined()
    for (name, bytes) in [
        ("six-records", block.encode()), ("six-records-without-positions", withoutPositions),
        ("six-records-in-groups", grouped),
    ] {
        guard let file = fopen(String(cString: directory) + "/" + name, "wb") else { continue }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    return 0
}
