import Hummingbird

/// One REST route as the API declares it: its method and path, what it does, and every query parameter and body
/// field it takes.
///
/// The declaration is the single source for three things that must agree: the input check every request goes
/// through before its handler runs (`RouteInput`), the route's documentation in the README (`Route+Markdown.swift`),
/// and the machine-readable description of the API. Anything a request sends that its route does not declare is a
/// 400 naming it, so a misspelled filter or setting is an error, never a silent default.
struct Route: Sendable {
    /// The method, e.g. `GET`.
    let method: HTTPRequest.Method
    /// The full path pattern, parameters in braces: `/api/v1/accounts/{account}/logs`.
    let path: String
    /// One sentence on what the route does and answers, for the documentation.
    let summary: String
    /// The query parameters it takes; every other one is refused.
    let query: [Field]
    /// The JSON object fields it takes, or nil for a route that takes no body (an empty body or `{}` is accepted).
    let body: [Field]?

    init(
        _ method: HTTPRequest.Method, _ path: String, _ summary: String, query: [Field] = [], body: [Field]? = nil
    ) {
        self.method = method
        self.path = path
        self.summary = summary
        self.query = query
        self.body = body
    }

    /// `GET /api/v1/accounts/{account}/logs`: how the router and the access rules name the route.
    var name: String { "\(method) \(path)" }

    /// A query parameter or a body field: its name, the values it takes, and whether it must be present or may be
    /// null (body fields only: null returns a setting to its default).
    ///
    /// A *prefix* parameter (query only) is a family of parameters: `name` is the prefix, e.g. `metadata.`, and the
    /// request names one member per key after it (`metadata.user=alice`, `metadata.team=ml`), each at most once;
    /// anything else that is not declared is still refused.
    struct Field: Sendable {
        let name: String
        let kind: Kind
        let summary: String
        let required: Bool
        let nullable: Bool
        /// `name` is a prefix: the parameter is `name` followed by a non-empty key.
        let prefix: Bool

        init(_ name: String, _ kind: Kind, _ summary: String, required: Bool = false, nullable: Bool = false) {
            self.name = name
            self.kind = kind
            self.summary = summary
            self.required = required
            self.nullable = nullable
            self.prefix = false
        }

        private init(prefix: String, _ kind: Kind, _ summary: String) {
            self.name = prefix
            self.kind = kind
            self.summary = summary
            self.required = false
            self.nullable = false
            self.prefix = true
        }

        /// A query parameter family `<prefix><key>`: any non-empty key, each key at most once.
        static func prefixed(_ prefix: String, _ kind: Kind, _ summary: String) -> Field {
            Field(prefix: prefix, kind, summary)
        }

        /// How the documentation and error messages name it: `metadata.<key>` for a prefix parameter.
        var displayName: String { prefix ? name + "<key>" : name }

        /// Whether the query parameter `parameter` is this field (or, for a prefix, one of its members).
        func matches(_ parameter: String) -> Bool {
            prefix ? parameter.hasPrefix(name) : parameter == name
        }
    }

    /// The values a parameter or field takes. In a query string every value is text; in a JSON body `integer`,
    /// `boolean` and `price` take JSON numbers and booleans (a price also a decimal string), the others strings.
    enum Kind: Sendable {
        /// Any non-empty text.
        case text
        /// An id: `[a-z0-9][a-z0-9-]{0,63}`.
        case identifier
        /// A whole number in the range.
        case integer(ClosedRange<Int64>)
        /// `true` or `false` (in a query string also `1` or `0`).
        case boolean
        /// An RFC 3339 timestamp.
        case timestamp
        /// `YYYY-MM-DD` (midnight UTC) or an RFC 3339 timestamp.
        case date
        /// `YYYY-MM`, a calendar month in UTC.
        case month
        /// One of the names.
        case choice([String])
        /// A comma-separated subset of the names.
        case subset([String])
        /// An IANA time zone name.
        case timeZone
        /// USD per 1M tokens, exact to 6 decimals, not negative.
        case price
        /// USD per 1,000 requests, exact to 9 decimals, not negative.
        case requestFee
        /// A JSON object, read by the route (body fields only).
        case object
        /// Cloudflare's `filters` array in a query string (a prefix parameter `filters`): the parts `key`,
        /// `operator` and `value` of each filter, repeatable and kept in the order given; read by
        /// `CloudflareLogFilters`.
        case filterParts
    }
}

extension Route.Field {
    /// The names of a list of fields, for "expected …" messages.
    static func names(_ fields: [Route.Field]) -> String {
        fields.isEmpty ? "none" : fields.map(\.displayName).joined(separator: ", ")
    }
}

extension Route.Kind {
    /// What a value must look like, as the end of an error message ("expected …").
    var expectation: String {
        switch self {
        case .text: "expected a non-empty string"
        case .identifier: "expected an id matching [a-z0-9][a-z0-9-]{0,63}"
        case .integer(let range): "expected a whole number from \(range.lowerBound) to \(range.upperBound)"
        case .boolean: "expected true or false"
        case .timestamp: "expected an RFC 3339 timestamp such as 2026-11-25T13:00:00Z"
        case .date: "expected YYYY-MM-DD or an RFC 3339 timestamp such as 2026-11-25T13:00:00Z"
        case .month: "expected YYYY-MM"
        case .choice(let names): "expected one of \(names.joined(separator: ", "))"
        case .subset(let names): "expected a comma-separated subset of \(names.joined(separator: ", "))"
        case .timeZone: "expected an IANA time zone name such as Europe/Paris"
        case .price: "expected a non-negative price in USD per 1M tokens with at most 6 decimals"
        case .requestFee: "expected a non-negative price in USD per 1,000 requests with at most 9 decimals"
        case .object: "expected a JSON object"
        case .filterParts: "expected filters.key, filters.operator and filters.value (or filters[i][key], …)"
        }
    }
}
