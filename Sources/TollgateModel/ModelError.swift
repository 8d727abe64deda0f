/// The error `TollgateModel` throws: a stable code, a message naming the problem, and where it was raised.
///
/// Messages name fields and limits, never values from the input, so they are safe to return to clients and to log.
public struct ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidMetadata = "invalid_metadata"
            case invalidCustomCost = "invalid_custom_cost"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The `cf-aig-metadata` header is not a JSON object of at most 5 string/number/boolean entries.
        public static let invalidMetadata = Code(.invalidMetadata)
        /// The `cf-aig-custom-cost` header is not `{"per_token_in":…,"per_token_out":…}` or `{"total_cost":…}`.
        public static let invalidCustomCost = Code(.invalidCustomCost)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    public var file: String
    public var line: Int

    public init(code: Code, message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { "\(code): \(message)" }

    public static func == (a: ModelError, b: ModelError) -> Bool { a.code == b.code && a.message == b.message }
}
