import TollgateModel

/// What a listing needs to know of a sealed segment without reading it: its id range, the names its logs carry and
/// how many logs it holds. A listing skips a segment outside its cursor or time range, or without the account,
/// gateway, provider or model it filters on.
public struct SegmentSummary: Sendable, Equatable {
    public var segment: UInt32
    public var minID: LogID
    public var maxID: LogID
    /// Logs (not usage records) in the segment when it was sealed.
    public var logs: Int
    public var accounts: Set<String>
    public var gateways: Set<String>
    public var providers: Set<String>
    public var models: Set<String>

    public init(
        segment: UInt32, minID: LogID, maxID: LogID, logs: Int, accounts: Set<String>, gateways: Set<String>,
        providers: Set<String>, models: Set<String>
    ) {
        self.segment = segment
        self.minID = minID
        self.maxID = maxID
        self.logs = logs
        self.accounts = accounts
        self.gateways = gateways
        self.providers = providers
        self.models = models
    }

    /// The summary of a segment's columns; nil when it holds no row.
    public init?(_ block: ColumnBlock) {
        self.init(
            segment: block.segment, idRange: block.idRange,
            logs: block.flags(.logged).reduce(0) { $0 + ($1 ? 1 : 0) }, names: { block.strings($0).dictionary })
    }

    /// The summary of the columns of the segment being written (at its seal); nil when it holds no row.
    init?(_ columns: ColumnBuilder) {
        self.init(
            segment: columns.segment, idRange: columns.idRange, logs: columns.rowsSet(.logged),
            names: columns.values)
    }

    /// The summary of columns with these ids, logs and distinct values by string column.
    private init?(
        segment: UInt32, idRange: (min: LogID, max: LogID)?, logs: Int, names: (RecordField) -> [String]
    ) {
        guard let range = idRange else { return nil }
        self.init(
            segment: segment, minID: range.min, maxID: range.max, logs: logs, accounts: Set(names(.account)),
            gateways: Set(names(.gateway)), providers: Set(names(.provider)), models: Set(names(.model)))
    }

    /// False when no log of the segment can match `query` (its names), whatever its other filters.
    public func mayMatch(_ query: LogQuery) -> Bool {
        guard logs > 0, accounts.contains(query.account) else { return false }
        if let g = query.gateway, !gateways.contains(g) { return false }
        if let p = query.provider, !providers.contains(p) { return false }
        if let m = query.model, !models.contains(m) { return false }
        if let from = query.from, maxID < LogID.lowerBound(milliseconds: from) { return false }
        if let to = query.to, !(minID < LogID.lowerBound(milliseconds: to)) { return false }
        return true
    }
}
