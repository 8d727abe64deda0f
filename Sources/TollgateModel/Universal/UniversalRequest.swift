/// The universal endpoint's body (`POST /v1/{account}/{gateway}`, Cloudflare AI Gateway's shape): a JSON array of
/// steps, each a whole provider request, tried in order until one answers without a retriable error.
///
/// ```json
/// [{"provider": "openai", "endpoint": "chat/completions",
///   "headers": {"authorization": "Bearer sk-…", "content-type": "application/json"},
///   "query": {"model": "gpt-5-mini", "messages": […]},
///   "config": {"requestTimeout": 5000, "maxAttempts": 2, "retryDelay": 200, "backoff": "exponential"}}, …]
/// ```
///
/// A step's `query` is forwarded byte for byte as the provider's request body (it is never re-encoded, so numbers
/// and key order stay the client's).
public struct UniversalRequest: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        /// The provider's slug, e.g. `openai`.
        public var provider: String
        /// The forwarded path, starting with `/` (`endpoint` with a slash before it, without its query string).
        public var path: String
        /// The query string of `endpoint`, without the `?`, or nil.
        public var query: String?
        public var headers: [Header]
        /// The raw bytes of the step's `query` member: the provider's request body.
        public var body: [UInt8]
        public var config: Config
    }

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// A step's own request handling; nil members fall back to the request's `cf-aig-*` headers, then the gateway's
    /// settings.
    public struct Config: Sendable, Equatable {
        /// Milliseconds to the first response byte.
        public var requestTimeout: Int?
        /// Attempts in all for this step.
        public var maxAttempts: Int?
        /// Milliseconds before the step's first retry.
        public var retryDelay: Int?
        /// `constant`, `linear` or `exponential`.
        public var backoff: String?

        public init() {}
    }

    /// What is wrong with a body, naming the step and the field: `steps[1].provider: required`.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var field: String
        public var message: String
        public var description: String { "\(field): \(message)" }
    }

    public var steps: [Step]

    public static let maximumSteps = 16
    public static let backoffs: Set<String> = ["constant", "linear", "exponential"]

    /// Reads a body; every malformed step or field is named.
    public static func parse(_ bytes: [UInt8]) throws(Failure) -> UniversalRequest {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes, options: [.rejectDuplicateKeys])
        } catch {
            throw Failure(field: "body", message: "not valid JSON (\(error.reason) at byte \(error.offset))")
        }
        guard case .array(let elements) = document else {
            throw Failure(field: "body", message: "expected a JSON array of steps")
        }
        guard (1...maximumSteps).contains(elements.count) else {
            throw Failure(field: "body", message: "expected 1 to \(maximumSteps) steps")
        }
        let bodies = try queryRanges(bytes, count: elements.count)
        var steps: [Step] = []
        steps.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            steps.append(try step(element, at: index, body: Array(bytes[bodies[index]])))
        }
        return UniversalRequest(steps: steps)
    }

    private static let stepFields: Set<String> = ["provider", "endpoint", "headers", "query", "config"]
    private static let configFields: Set<String> = ["requestTimeout", "maxAttempts", "retryDelay", "backoff"]

    private static func step(_ value: JSONValue, at index: Int, body: [UInt8]) throws(Failure) -> Step {
        let name = "steps[\(index)]"
        guard case .object(let members) = value else { throw Failure(field: name, message: "expected a JSON object") }
        if let unknown = members.keys.sorted().first(where: { !stepFields.contains($0) }) {
            throw Failure(
                field: "\(name).\(unknown)",
                message: "unknown field; expected provider, endpoint, headers, query, config")
        }
        guard let provider = members["provider"] else { throw Failure(field: "\(name).provider", message: "required") }
        guard let slug = provider.stringValue, !slug.isEmpty, slug.utf8.count <= 64 else {
            throw Failure(field: "\(name).provider", message: "expected a provider's name")
        }
        guard let endpointValue = members["endpoint"] else {
            throw Failure(field: "\(name).endpoint", message: "required")
        }
        guard let endpoint = endpointValue.stringValue, isEndpoint(endpoint) else {
            throw Failure(
                field: "\(name).endpoint",
                message: "expected the provider's path after its base URL, e.g. chat/completions")
        }
        guard members["query"] != nil else { throw Failure(field: "\(name).query", message: "required") }
        var path = endpoint.hasPrefix("/") ? endpoint : "/" + endpoint
        var query: String?
        if let mark = path.firstIndex(of: "?") {
            query = String(path[path.index(after: mark)...])
            path = String(path[..<mark])
        }
        var headers: [Header] = []
        if let value = members["headers"] {
            guard case .object(let fields) = value else {
                throw Failure(field: "\(name).headers", message: "expected an object of header names and values")
            }
            for (header, value) in fields.sorted(by: { $0.key < $1.key }) {
                guard isToken(header) else {
                    throw Failure(field: "\(name).headers.\(header)", message: "not a valid header name")
                }
                guard let text = value.stringValue, !text.utf8.contains(where: { $0 == 10 || $0 == 13 || $0 == 0 })
                else {
                    throw Failure(field: "\(name).headers.\(header)", message: "expected a string on one line")
                }
                headers.append(Header(name: header, value: text))
            }
        }
        var config = Config()
        if let value = members["config"] {
            guard case .object(let fields) = value else {
                throw Failure(field: "\(name).config", message: "expected a JSON object")
            }
            if let unknown = fields.keys.sorted().first(where: { !configFields.contains($0) }) {
                throw Failure(
                    field: "\(name).config.\(unknown)",
                    message: "unknown field; expected requestTimeout, maxAttempts, retryDelay, backoff")
            }
            func number(_ key: String, _ range: ClosedRange<Int>) throws(Failure) -> Int? {
                guard let value = fields[key] else { return nil }
                guard let number = value.intValue, range.contains(number) else {
                    throw Failure(
                        field: "\(name).config.\(key)",
                        message: "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
                }
                return number
            }
            config.requestTimeout = try number("requestTimeout", 1...600_000)
            config.maxAttempts = try number("maxAttempts", 1...5)
            config.retryDelay = try number("retryDelay", 0...5_000)
            if let value = fields["backoff"] {
                guard let backoff = value.stringValue, backoffs.contains(backoff) else {
                    throw Failure(
                        field: "\(name).config.backoff", message: "expected constant, linear or exponential")
                }
                config.backoff = backoff
            }
        }
        return Step(provider: slug, path: path, query: query, headers: headers, body: body, config: config)
    }

    /// The byte range of each step's `query` value, in order (the document was checked already).
    private static func queryRanges(_ bytes: [UInt8], count: Int) throws(Failure) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        let found: Bool = bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(buffer)
            do {
                try reader.readArray { (element: inout JSONReader) throws(JSONReader.Failure) in
                    var range = 0..<0
                    guard element.peekKind() == .object else {
                        // Not a step; `step(_:at:body:)` names it.
                        try element.skipValue()
                        return ranges.append(range)
                    }
                    try element.readObject { (member: inout JSONReader, key: JSONKey) throws(JSONReader.Failure) in
                        guard key == "query" else { return try member.skipValue() }
                        _ = member.peekKind()
                        let start = member.index
                        try member.skipValue()
                        range = start..<member.index
                    }
                    ranges.append(range)
                }
                return true
            } catch {
                return false
            }
        }
        guard found, ranges.count == count else { throw Failure(field: "body", message: "not valid JSON") }
        return ranges
    }

    /// A relative provider path: printable ASCII without spaces, no `..` segment, up to 2048 bytes.
    static func isEndpoint(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard (1...2048).contains(utf8.count), utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != 0x23 }) else {
            return false
        }
        let path = text.split(separator: "?", maxSplits: 1).first ?? ""
        return !path.split(separator: "/").contains("..")
    }

    /// An HTTP header name (RFC 9110 token).
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 256
            && text.utf8.allSatisfy { c in
                switch c {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"):
                    true
                default: "!#$%&'*+-.^_`|~".utf8.contains(c)
                }
            }
    }
}
