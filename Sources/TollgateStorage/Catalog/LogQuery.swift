/// A request for one page of an account's logs.
///
/// Filters are combined with AND. `from`/`to` bound the creation time in Unix milliseconds (`from` inclusive, `to`
/// exclusive); they are applied to the time in the log id, which is `created_at`.
public struct LogQuery: Sendable, Hashable {
    public enum Order: String, Sendable, Hashable {
        /// Oldest first.
        case ascending = "asc"
        /// Newest first.
        case descending = "desc"
    }

    public static let limits = 1...1000
    public static let defaultLimit = 50

    public var account: String
    public var gateway: String?
    public var provider: String?
    public var model: String?
    public var statusCode: Int?
    public var success: Bool?
    public var stream: Bool?
    // Listing only (deleting by filter takes the filters above and `from`/`to`):
    /// Answered from the gateway's response cache, or not.
    public var cached: Bool?
    /// The annotation's feedback (-1 or 1).
    public var feedback: Int?
    /// Logs of one event (`cf-aig-event-id`): every attempt of one request.
    public var eventID: String?
    /// Metadata entries a log must have, compared as text (booleans `true`/`false`, numbers as written); the
    /// annotation's metadata replaces the request's when it has some.
    public var metadata: [String: String] = [:]
    public var from: Int64?
    public var to: Int64?
    public var order: Order
    /// Page size, 1…1000.
    public var limit: Int
    /// `LogPage.nextCursor` of the previous page, to continue after it; nil for the first page.
    public var cursor: String?

    public init(
        account: String, gateway: String? = nil, provider: String? = nil, model: String? = nil,
        statusCode: Int? = nil, success: Bool? = nil, stream: Bool? = nil, from: Int64? = nil, to: Int64? = nil,
        order: Order = .descending, limit: Int = LogQuery.defaultLimit, cursor: String? = nil
    ) {
        self.account = account
        self.gateway = gateway
        self.provider = provider
        self.model = model
        self.statusCode = statusCode
        self.success = success
        self.stream = stream
        self.from = from
        self.to = to
        self.order = order
        self.limit = limit
        self.cursor = cursor
    }
}
