/// One page of logs, in the query's order.
public struct LogPage: Sendable, Equatable {
    public var entries: [LogIndexEntry]
    /// Pass as `LogQuery.cursor` (with the same filters and order) for the next page; nil when this page is the last.
    public var nextCursor: String?

    public init(entries: [LogIndexEntry], nextCursor: String?) {
        self.entries = entries
        self.nextCursor = nextCursor
    }
}
