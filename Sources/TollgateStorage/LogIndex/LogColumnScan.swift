import TollgateModel

/// A log listing answered from one segment's columns: the rows a `LogQuery` lists, in its order, without the
/// catalog's rows or the records themselves.
///
/// The filters are resolved against the block once (a gateway, provider or model the segment never saw matches no
/// row, and string filters compare dictionary codes), then rows are visited in id order from the cursor on
/// (`SegmentColumns.idOrder`) until the page is full, so a page costs the rows it skips, not the segment.
public struct LogColumnScan: Sendable {
    /// The listing's filters, as `Catalog.listLogs` applies them.
    public var query: LogQuery
    /// Continue strictly after this id in the query's order (the decoded cursor); nil from the start.
    public var after: LogID?

    public init(query: LogQuery, after: LogID?) {
        self.query = query
        self.after = after
    }

    /// The rows of `segment` the listing shows, best first in the query's order, at most `limit`. `deleted` holds the
    /// ids of the segment's deleted logs (tombstones not yet compacted); `annotations` the feedback patched onto its
    /// logs, which the feedback and metadata filters read.
    public func rows(
        of segment: SegmentColumns, deleted: Set<LogID> = [], annotations: [LogID: LogAnnotation] = [:], limit: Int
    ) -> [Int] {
        let block = segment.block
        guard limit > 0, block.count > 0, let filter = Resolved(self, block: block) else { return [] }
        let order = segment.idOrder
        let ascending = query.order == .ascending
        // The range of positions in id order inside [from, to) and after the cursor.
        var low = 0
        var high = order.count
        if let from = query.from {
            low = max(low, segment.firstPosition(notBelow: LogID.lowerBound(milliseconds: from)))
        }
        if let to = query.to { high = min(high, segment.firstPosition(notBelow: LogID.lowerBound(milliseconds: to))) }
        if let after {
            if ascending {
                low = max(low, segment.firstPosition(above: after))
            } else {
                high = min(high, segment.firstPosition(notBelow: after))
            }
        }
        guard low < high else { return [] }
        var rows: [Int] = []
        rows.reserveCapacity(min(limit, high - low))
        var position = ascending ? low : high - 1
        while ascending ? position < high : position >= low {
            let row = Int(order[position])
            let id = block.ids[row]
            // A record appended twice is one log: the first appended (the first of equal ids) answers.
            let repeated = position > 0 && block.ids[Int(order[position - 1])] == id
            position += ascending ? 1 : -1
            guard !repeated, filter.matches(row, of: block), !deleted.contains(id) else { continue }
            if filter.readsAnnotations, !filter.matches(annotation: annotations[id], row: row, of: block, id: id) {
                continue
            }
            rows.append(row)
            if rows.count == limit { break }
        }
        return rows
    }

    /// The filters resolved against one block: string values as dictionary codes.
    private struct Resolved {
        let account: UInt32
        let gateway: UInt32?
        let provider: UInt32?
        let model: UInt32?
        let statusCode: Int64?
        let success: Bool?
        let stream: Bool?
        let cached: Bool?
        let feedback: Int?
        /// The event id filter: logs whose event_id code is this (nil when no row has that event id) …
        let eventCode: UInt32?
        /// … and the log whose own id it is, when that log names no event.
        let eventOwnID: LogID?
        let filtersEvent: Bool
        /// Sorted by key, as text.
        let metadata: [(key: String, value: String)]

        /// Nil when some filter matches no row of the block.
        init?(_ scan: LogColumnScan, block: ColumnBlock) {
            let q = scan.query
            func code(_ field: RecordField, _ value: String?) -> UInt32?? {
                guard let value else { return .some(nil) }
                guard let code = block.strings(field).code(of: value) else { return nil }
                return .some(code)
            }
            guard let account = block.strings(.account).code(of: q.account), let gateway = code(.gateway, q.gateway),
                let provider = code(.provider, q.provider), let model = code(.model, q.model)
            else { return nil }
            self.account = account
            self.gateway = gateway
            self.provider = provider
            self.model = model
            statusCode = q.statusCode.map { Int64($0) }
            success = q.success
            stream = q.stream
            cached = q.cached
            feedback = q.feedback
            if let eventID = q.eventID {
                filtersEvent = true
                eventCode = block.strings(.eventID).code(of: eventID)
                eventOwnID = LogID(eventID)
                if eventCode == nil && eventOwnID == nil { return nil }
            } else {
                (filtersEvent, eventCode, eventOwnID) = (false, nil, nil)
            }
            metadata = q.metadata.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
        }

        var readsAnnotations: Bool { feedback != nil || !metadata.isEmpty }

        /// Every filter but feedback and metadata, on row `row`.
        func matches(_ row: Int, of b: ColumnBlock) -> Bool {
            guard b.flags[RecordField.logged.slot][row], b.strings[RecordField.account.slot].codes[row] == account
            else { return false }
            if let gateway, b.strings[RecordField.gateway.slot].codes[row] != gateway { return false }
            if let provider, b.strings[RecordField.provider.slot].codes[row] != provider { return false }
            if let model, b.strings[RecordField.model.slot].codes[row] != model { return false }
            if let statusCode, b.integers[RecordField.statusCode.slot][row] != statusCode { return false }
            if let success, b.flags[RecordField.success.slot][row] != success { return false }
            if let stream, b.flags[RecordField.stream.slot][row] != stream { return false }
            if let cached, b.flags[RecordField.cached.slot][row] != cached { return false }
            if filtersEvent {
                let code = b.strings[RecordField.eventID.slot].codes[row]
                let named = eventCode.map { code == $0 } ?? false
                let own = code == StringColumn.nullCode && eventOwnID == b.ids[row]
                if !named && !own { return false }
            }
            return true
        }

        /// The feedback and metadata filters, which read the log's annotation.
        func matches(annotation: LogAnnotation?, row: Int, of b: ColumnBlock, id: LogID) -> Bool {
            if let feedback, annotation?.feedback != feedback { return false }
            guard !metadata.isEmpty else { return true }
            let entries =
                annotation?.metadata
                ?? b.strings[RecordField.metadata.slot][row].flatMap(LogMetadataJSON.decode) ?? []
            for wanted in metadata {
                guard entries.contains(where: { $0.key == wanted.key && $0.value.filterText == wanted.value })
                else { return false }
            }
            return true
        }
    }
}

extension MetadataEntry.Value {
    /// The text a metadata filter compares with: a string as it is, `true`/`false`, a number as the log shows it.
    var filterText: String {
        switch self {
        case .string(let text): text
        case .bool(let flag): flag ? "true" : "false"
        case .number(let number): LogMetadataJSON.numberText(number)
        }
    }
}

/// A sealed segment's columns as a listing reads them: the decoded block and its rows in id order (append order
/// is only nearly id order: a log's id is made when its request starts, its record appended when it ends).
public final class SegmentColumns: Sendable {
    public let block: ColumnBlock
    /// Row numbers sorted by id.
    let idOrder: [Int32]

    public init(_ block: ColumnBlock) {
        self.block = block
        let ids = block.ids
        // Nearly sorted already: the standard sort's runs make this close to linear. Equal ids (a record appended
        // twice) keep their append order.
        idOrder = (0..<Int32(block.count)).sorted { a, b in
            let (x, y) = (ids[Int(a)], ids[Int(b)])
            return x < y || (x == y && a < b)
        }
    }

    /// Columns whose id order is known already (an active segment keeps it as rows arrive).
    init(_ block: ColumnBlock, idOrder: [Int32]) {
        self.block = block
        self.idOrder = idOrder
    }

    /// The first position in id order whose id is ≥ `id` (`count` when none).
    func firstPosition(notBelow id: LogID) -> Int { idOrder.firstPosition(of: block.ids) { !($0 < id) } }

    /// The first position in id order whose id is > `id`.
    func firstPosition(above id: LogID) -> Int { idOrder.firstPosition(of: block.ids) { id < $0 } }
}

extension Array where Element == Int32 {
    /// In rows sorted by id (this array, row numbers into `ids`), the first position whose id satisfies `isAfter`,
    /// which must be false for every id before some point and true from it on (`count` when none satisfies it).
    func firstPosition(of ids: [LogID], where isAfter: (LogID) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if isAfter(ids[Int(self[mid])]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
