import CZstd

/// An error from the zstd codec: a failed zstd call, a missing dictionary or a frame that cannot be decoded.
///
/// The description names the failing operation and zstd's own error text; it never contains the data.
public struct ZstdError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: Hashable, Sendable {
            case library
            case missingDictionary
            case invalidFrame
            case trainingFailed
        }
        fileprivate let base: Base

        /// A zstd function returned an error code.
        public static let library = Code(base: .library)
        /// A frame names a dictionary id that was not loaded.
        public static let missingDictionary = Code(base: .missingDictionary)
        /// The input is not a zstd frame this codec can decode (unknown or oversized content size).
        public static let invalidFrame = Code(base: .invalidFrame)
        /// Dictionary training failed (too few or too uniform samples).
        public static let trainingFailed = Code(base: .trainingFailed)

        public var description: String {
            switch base {
            case .library: "library"
            case .missingDictionary: "missingDictionary"
            case .invalidFrame: "invalidFrame"
            case .trainingFailed: "trainingFailed"
            }
        }
    }

    public let code: Code
    public let message: String
    public let file: String
    public let line: Int

    init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { "ZstdError.\(code): \(message) (\(file):\(line))" }

    /// Throws when `result` is a zstd error code; returns it otherwise.
    @discardableResult
    static func check(_ result: Int, _ operation: String, file: String = #fileID, line: Int = #line) throws
        -> Int
    {
        if ZSTD_isError(result) != 0 {
            let name = String(cString: ZSTD_getErrorName(result))
            throw ZstdError(.library, "\(operation): \(name)", file: file, line: line)
        }
        return result
    }
}
