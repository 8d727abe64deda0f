import Glibc

/// An error from the segment store: a failed system call, a frame or record that does not verify, or a request the
/// store cannot serve. Descriptions carry paths, offsets and codes, never record contents.
public struct SegmentError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: Hashable, Sendable {
            case io, corrupt, notFound, notSealed, invalidArgument, unsupportedVersion
        }
        fileprivate let base: Base

        /// A system call failed (`errno` in `errno`).
        public static let io = Code(base: .io)
        /// Bytes on disk do not verify: bad checksum, torn frame, wrong frame type, undecodable record.
        public static let corrupt = Code(base: .corrupt)
        /// The segment or record does not exist.
        public static let notFound = Code(base: .notFound)
        /// The operation needs a sealed segment.
        public static let notSealed = Code(base: .notSealed)
        /// The caller passed something the store cannot use.
        public static let invalidArgument = Code(base: .invalidArgument)
        /// The data was written by a newer format version.
        public static let unsupportedVersion = Code(base: .unsupportedVersion)

        public var description: String {
            switch base {
            case .io: "io"
            case .corrupt: "corrupt"
            case .notFound: "notFound"
            case .notSealed: "notSealed"
            case .invalidArgument: "invalidArgument"
            case .unsupportedVersion: "unsupportedVersion"
            }
        }
    }

    public let code: Code
    public let message: String
    /// `errno` for `.io` errors, else 0.
    public let errno: Int32
    /// The underlying error (e.g. a `ZstdError`), described.
    public let cause: String?
    public let file: String
    public let line: Int

    init(
        _ code: Code, _ message: String, errno: Int32 = 0, cause: (any Error)? = nil,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.errno = errno
        self.cause = cause.map { "\($0)" }
        self.file = file
        self.line = line
    }

    /// An `.io` error for the current `errno`.
    static func system(_ operation: String, path: String, file: String = #fileID, line: Int = #line) -> SegmentError {
        let code = Glibc.errno
        let text = String(cString: strerror(code))
        return SegmentError(.io, "\(operation) \(path): \(text)", errno: code, file: file, line: line)
    }

    public var description: String {
        var text = "SegmentError.\(code): \(message)"
        if let cause { text += " (cause: \(cause))" }
        return text + " [\(file):\(line)]"
    }
}
