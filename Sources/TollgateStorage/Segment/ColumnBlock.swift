import TollgateModel

/// The metadata of a segment's records, one array per field, rows in append order: what filters and rollups read
/// without touching bodies. Sealed segments store it in their columns frame; the writer keeps the active
/// segment's in memory.
public struct ColumnBlock: Sendable, Equatable {
    public let segment: UInt32
    public var ids: [LogID] = []
    public var offsets: [UInt64] = []
    /// Stored frame length (compressed size plus the 10-byte frame header).
    public var lengths: [UInt32] = []
    /// Unix milliseconds.
    public var createdAt: [Int64] = []
    public var account = StringColumn()
    public var gateway = StringColumn()
    public var provider = StringColumn()
    public var model = StringColumn()
    public var statusCode: [UInt16] = []
    public var success: [Bool] = []
    public var stream: [Bool] = []
    public var tokensIn: [Int64?] = []
    public var tokensOut: [Int64?] = []
    public var cachedTokensIn: [Int64?] = []
    public var cacheWriteTokens: [Int64?] = []
    public var cacheWrite1hTokens: [Int64?] = []
    public var reasoningTokens: [Int64?] = []
    public var durationMicros: [Int64] = []
    public var ttftMicros: [Int64?] = []
    public var requestSize: [Int64] = []
    public var responseSize: [Int64] = []

    public init(segment: UInt32) {
        self.segment = segment
    }

    public var count: Int { ids.count }

    /// Where row `row`'s record is.
    public func location(row: Int) -> RecordLocation {
        RecordLocation(segment: segment, offset: offsets[row], length: lengths[row])
    }

    /// Adds a row for `record`, stored at `location`.
    public mutating func append(_ record: LogRecord, at location: RecordLocation) {
        ids.append(record.id)
        offsets.append(location.offset)
        lengths.append(location.length)
        createdAt.append(record.createdAt)
        account.append(record.account)
        gateway.append(record.gateway)
        provider.append(record.provider)
        model.append(record.model)
        statusCode.append(UInt16(clamping: record.statusCode))
        success.append(record.success)
        stream.append(record.stream)
        tokensIn.append(record.usage.tokensIn)
        tokensOut.append(record.usage.tokensOut)
        cachedTokensIn.append(record.usage.cachedTokensIn)
        cacheWriteTokens.append(record.usage.cacheWriteTokens)
        cacheWrite1hTokens.append(record.usage.cacheWrite1hTokens)
        reasoningTokens.append(record.usage.reasoningTokens)
        durationMicros.append(record.durationMicros)
        ttftMicros.append(record.ttftMicros)
        requestSize.append(record.requestSize)
        responseSize.append(record.responseSize)
    }

    /// The smallest and largest id, nil when empty.
    var idRange: (min: LogID, max: LogID)? { ids.range }
}

extension Array where Element == LogID {
    /// The smallest and largest id, nil when empty (one pass, no sorting).
    var range: (min: LogID, max: LogID)? {
        guard var low = first else { return nil }
        var high = low
        for id in self {
            if id < low { low = id }
            if high < id { high = id }
        }
        return (low, high)
    }
}
