/// An error of the mock provider: a server that cannot start, or a request it refuses.
public struct MockProviderError: Error, CustomStringConvertible, Sendable {
    enum Code: Sendable, Equatable {
        case alreadyStarted
        case notStarted
        case bindFailed
        case badDirective
        case badRequest
    }

    let code: Code
    /// What went wrong, safe to show: never contains request bodies.
    public let message: String
    /// The underlying error, if any.
    public let cause: (any Error)?
    public let file: String
    public let line: Int

    init(code: Code, message: String, cause: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.cause = cause
        self.file = file
        self.line = line
    }

    public var description: String {
        var text = "MockProviderError(\(code)): \(message)"
        if let cause { text += " (cause: \(cause))" }
        return text
    }

    static func badDirective(_ name: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(code: .badDirective, message: "invalid or unknown x-mock directive '\(name)'", file: file, line: line)
    }

    static func badRequest(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(code: .badRequest, message: message, file: file, line: line)
    }
}
