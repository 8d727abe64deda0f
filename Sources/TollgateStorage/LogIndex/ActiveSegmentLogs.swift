import TollgateModel

/// The durable logs of a segment not sealed yet, held in memory as the columns it will be sealed with: the segment
/// writer's group commit adds them (`Catalog.addActiveLogs`, their fields as the writer's columns staged them:
/// `Catalog.ActiveColumns`), recovery rebuilds them from the segment's records, and sealing hands their costs to
/// `sealed_segments` (FORMAT.md, "Sealed segments answer for their logs").
/// Listings, lookups, deletions and repricing read them as they read a sealed segment's columns, so a log is never
/// written to the catalog's rows.
///
/// Only logs are kept (usage records are never listed); rows are in append order, `idOrder` sorts them by id as
/// they arrive (append order is nearly id order, so an insertion moves few positions).
struct ActiveSegmentLogs: Sendable {
    private(set) var block: ColumnBlock
    /// Row numbers sorted by id.
    private(set) var idOrder: [Int32] = []
    /// Each row's cost and saved amount, as priced when it was added or repriced since.
    var costs = SegmentCosts(rows: 0)
    /// The string values of the writer's columns the last logs were handed over from (`Catalog.ActiveColumns`).
    private var writer: WriterValues?

    /// By string column, the values of one writer's columns (`ColumnBuilder.generation`) by their position there,
    /// and the code each has in this segment's columns (`StringColumn.nullCode` until a log has it: a value only
    /// usage records had is never in the listing's dictionaries).
    struct WriterValues: Sendable {
        let generation: UInt64
        var values = [[String]](repeating: [], count: RecordField.stringColumns.count)
        var codes = [[UInt32]](repeating: [], count: RecordField.stringColumns.count)
    }

    init(segment: UInt32) {
        block = ColumnBlock(segment: segment)
    }

    var count: Int { block.count }

    /// Adds a log stored at `location`; false (nothing added) when a log with its id is already here: a record
    /// appended twice is one log, the first appended.
    mutating func append(_ record: LogRecord, at location: RecordLocation, cost: Int64?, saved: Int64?) -> Bool {
        guard placeInIDOrder(record.id) else { return false }
        block.append(record, at: location)
        costs.cost.append(cost)
        costs.saved.append(saved)
        return true
    }

    /// Adds logs `rows` of `logs` (each stored in this segment), in that order, and returns how many were added: a
    /// log whose id is here already, or earlier among them, is skipped (a record appended twice is one log, the
    /// first appended). Their fields go into the columns a column at a time, which costs each value a place in one
    /// loop instead of a call and a growing array's checks per row and column.
    mutating func append(_ logs: UnsafeBufferPointer<Catalog.ActiveLog>, rows: [Int]) -> Int {
        append(logs, rows: rows) { block, _, added in block.appendFields(of: logs, rows: added) }
    }

    /// Adds logs `rows` of `logs` (each stored in this segment, in run `run` of `columns`), in that order, as
    /// `append(_:rows:)` does, their fields taken from the writer's column values. Logs whose writer's values this
    /// segment did not follow from the start (after a failed write, or rebuilt on open) are read from their records.
    mutating func append(
        _ logs: UnsafeBufferPointer<Catalog.ActiveLog>, rows: [Int], columns: Catalog.ActiveColumns, run: Int
    ) -> Int {
        guard learn(columns.runs[run]) else { return append(logs, rows: rows) }
        return append(logs, rows: rows) { block, writer, added in
            columns.words.withUnsafeBufferPointer { words in
                block.appendFields(of: logs, rows: added, words: words, writer: &writer!)
            }
        }
    }

    /// Adds logs `rows` of `logs`: their ids in id order (a log whose id is here already, or earlier among them, is
    /// skipped), then `fields` adds the fields of those added to every other column, then their costs.
    private mutating func append(
        _ logs: UnsafeBufferPointer<Catalog.ActiveLog>, rows: [Int],
        fields: (inout ColumnBlock, inout WriterValues?, [Int]) -> Void
    ) -> Int {
        guard let log = logs.baseAddress else { return 0 }
        var added: [Int] = []
        added.reserveCapacity(rows.count)
        for i in rows where placeInIDOrder(log[i].record.id) {
            // The id first: the next log's place in id order is found among them.
            block.ids.append(log[i].record.id)
            added.append(i)
        }
        fields(&block, &writer, added)
        for i in added {
            let charged = log[i].charges
            costs.cost.append(charged.cost)
            costs.saved.append(charged.saved)
        }
        return added.count
    }

    /// Takes the string values the writer's columns of `run` gained; false (and forgets the writer's values) when
    /// they do not follow what this segment holds of those columns, whose logs must then be read from their records.
    @discardableResult
    mutating func learn(_ run: Catalog.ActiveColumns.Run) -> Bool {
        if writer?.generation != run.generation { writer = WriterValues(generation: run.generation) }
        for slot in run.base.indices where writer!.values[slot].count != run.base[slot] {
            writer = nil
            return false
        }
        for slot in run.added.indices where !run.added[slot].isEmpty {
            writer!.values[slot].append(contentsOf: run.added[slot])
            writer!.codes[slot].append(contentsOf: repeatElement(StringColumn.nullCode, count: run.added[slot].count))
        }
        return true
    }

    /// Puts the next row (`block.ids.count`, its id not appended yet) in id order and returns true, or returns false
    /// when a log with this id is here already.
    private mutating func placeInIDOrder(_ id: LogID) -> Bool {
        let position = firstPosition(above: id)
        if position > 0, block.ids[Int(idOrder[position - 1])] == id { return false }
        // Nearly always the last place: an append, not the generic range replacement `insert(_:at:)` goes through.
        if position == idOrder.count {
            idOrder.append(Int32(block.ids.count))
        } else {
            idOrder.insert(Int32(block.ids.count), at: position)
        }
        return true
    }

    /// Whether a log with this id is here.
    func contains(_ id: LogID) -> Bool {
        let position = firstPosition(above: id)
        return position > 0 && block.ids[Int(idOrder[position - 1])] == id
    }

    /// Calls `body` with a test of whether an id is here, without copying this value (for a batch of tests under
    /// the catalog's lock).
    mutating func withIDs(_ body: ((LogID) -> Bool) -> Void) {
        body { self.contains($0) }
    }

    /// The columns as a listing reads them: shares this value's storage until the next `append` (which then copies
    /// what a reader still holds).
    var columns: SegmentColumns { SegmentColumns(block, idOrder: idOrder) }

    /// What a listing needs to skip this segment unread; nil while it holds no log.
    var summary: SegmentSummary? {
        guard let first = idOrder.first, let last = idOrder.last else { return nil }
        func names(_ field: RecordField) -> Set<String> { Set(block.strings(field).dictionary) }
        return SegmentSummary(
            segment: block.segment, minID: block.ids[Int(first)], maxID: block.ids[Int(last)], logs: block.count,
            accounts: names(.account), gateways: names(.gateway), providers: names(.provider), models: names(.model))
    }

    /// The costs of the rows of the segment as sealed (every record, usage records too, their record offsets in
    /// row order), matched by record offset.
    ///
    /// Both are in append order, so offsets rise in each and one walk through the two matches them; a table of
    /// every offset (about 2.5 MB held during the seal at 65,536 logs) is only built when either is not in order.
    func costs(of sealed: [UInt64]) -> SegmentCosts {
        var out = SegmentCosts(rows: sealed.count)
        let offsets = block.offsets
        guard Self.rises(offsets) && Self.rises(sealed) else { return costsByTable(of: sealed) }
        var mine = 0
        for row in 0..<sealed.count {
            while mine < offsets.count && offsets[mine] < sealed[row] { mine += 1 }
            guard mine < offsets.count else { break }
            guard offsets[mine] == sealed[row] else { continue }
            out.cost[row] = costs.cost[mine]
            out.saved[row] = costs.saved[mine]
        }
        return out
    }

    private static func rises(_ offsets: [UInt64]) -> Bool {
        zip(offsets, offsets.dropFirst()).allSatisfy { $0 < $1 }
    }

    private func costsByTable(of sealed: [UInt64]) -> SegmentCosts {
        var byOffset: [UInt64: Int] = [:]
        byOffset.reserveCapacity(block.count)
        for row in 0..<block.count { byOffset[block.offsets[row]] = row }
        var out = SegmentCosts(rows: sealed.count)
        for row in 0..<sealed.count {
            guard let mine = byOffset[sealed[row]] else { continue }
            out.cost[row] = costs.cost[mine]
            out.saved[row] = costs.saved[mine]
        }
        return out
    }

    private func firstPosition(above id: LogID) -> Int {
        // Nearly always at the end: a new log's id is among the newest.
        if let last = idOrder.last, block.ids[Int(last)] < id { return idOrder.count }
        return idOrder.firstPosition(of: block.ids) { id < $0 }
    }
}

extension ColumnBlock {
    /// Adds to every column but the ids (appended already) the fields of logs `rows` of `logs`, a column at a time:
    /// the offsets, lengths and times from the logs, every other field from the writer's column values of the logs
    /// (`words`, `Catalog.ActiveColumns`), its string values through `writer`'s codes.
    fileprivate mutating func appendFields(
        of logs: UnsafeBufferPointer<Catalog.ActiveLog>, rows: [Int], words: UnsafeBufferPointer<UInt64>,
        writer: inout ActiveSegmentLogs.WriterValues
    ) {
        guard let log = logs.baseAddress else { return }
        for i in rows {
            offsets.append(log[i].location.offset)
            lengths.append(log[i].location.length)
            createdAt.append(log[i].record.createdAt)
        }
        let width = Catalog.ActiveColumns.rowWords
        withUnsafeTemporaryAllocation(of: Int64.self, capacity: rows.count) { values in
            for slot in strings.indices {
                writer.codes[slot].withUnsafeMutableBufferPointer { codes in
                    for (k, i) in rows.enumerated() {
                        let position = Int(truncatingIfNeeded: words[i &* width &+ slot])
                        guard position != 0 else {
                            values[k] = -1
                            continue
                        }
                        var code = codes[position &- 1]
                        if code == StringColumn.nullCode {
                            code = strings[slot].add(writer.values[slot][position &- 1])
                            codes[position &- 1] = code
                        }
                        values[k] = Int64(code)
                    }
                }
                strings[slot].appendCodes(UnsafeBufferPointer(values))
            }
            let first = RecordField.stringColumns.count
            let present = Catalog.ActiveColumns.presentWord
            for slot in integers.indices {
                for (k, i) in rows.enumerated() {
                    values[k] = Int64(bitPattern: words[i &* width &+ first &+ slot])
                }
                integers[slot].append(contentsOf: UnsafeBufferPointer(values)) { k in
                    words[rows[k] &* width &+ present] &>> UInt64(slot) & 1 == 0
                }
            }
        }
        let set = Catalog.ActiveColumns.flagsWord
        for slot in flags.indices {
            flags[slot].append(contentsOf: rows.map { words[$0 &* width &+ set] &>> UInt64(slot) & 1 != 0 })
        }
    }

    /// Adds to every column but the ids (appended already) the fields of logs `rows` of `logs`, a column at a time.
    /// (No `reserveCapacity` here: it grows an array to exactly what is asked, so a commit of a few logs would copy
    /// every column.)
    /// Each log is read through a pointer and its texts through `storedString(of:)`, which calls nothing: a call
    /// made the compiler copy the whole log (every text retained and released) for every value of every column.
    fileprivate mutating func appendFields(of logs: UnsafeBufferPointer<Catalog.ActiveLog>, rows: [Int]) {
        guard let log = logs.baseAddress else { return }
        for i in rows {
            offsets.append(log[i].location.offset)
            lengths.append(log[i].location.length)
            createdAt.append(log[i].record.createdAt)
        }
        for (slot, field) in RecordField.stringColumns.enumerated() {
            if field == .metadata {
                for i in rows { strings[slot].append(LogMetadataJSON.encode(log[i].record.metadata)) }
            } else {
                for i in rows { strings[slot].append(field.storedString(of: log[i].record)) }
            }
        }
        var values = [Int64?](repeating: nil, count: rows.count)
        for (slot, field) in RecordField.integerColumns.enumerated() {
            for (k, i) in rows.enumerated() { values[k] = field.integer(of: log[i].record) }
            integers[slot].append(contentsOf: values)
        }
        for (slot, field) in RecordField.flagColumns.enumerated() {
            for i in rows { flags[slot].append(field.flag(of: log[i].record)) }
        }
    }
}
