import CZstd

/// Compresses buffers into single zstd frames. Owns a `ZSTD_CCtx` (and a `ZSTD_CDict` when it has a dictionary).
///
/// Not thread-safe: one owner at a time (the segment writer owns one).
public final class ZstdCompressor {
    public let level: Int32
    public let dictionary: ZstdDictionary?
    private let context: OpaquePointer
    private let compressionDictionary: OpaquePointer?

    /// - Parameters:
    ///   - level: zstd compression level (default 3).
    ///   - dictionary: when given, every frame is compressed with it and names its id in the frame header.
    public init(level: Int32 = 3, dictionary: ZstdDictionary? = nil) throws {
        guard let context = ZSTD_createCCtx() else { throw ZstdError(.library, "ZSTD_createCCtx returned NULL") }
        var compressionDictionary: OpaquePointer?
        if let dictionary {
            compressionDictionary = dictionary.bytes.withUnsafeBytes {
                ZSTD_createCDict($0.baseAddress, $0.count, level)
            }
            guard compressionDictionary != nil else {
                ZSTD_freeCCtx(context)
                throw ZstdError(.library, "ZSTD_createCDict returned NULL for dictionary \(dictionary.id)")
            }
        }
        self.context = context
        self.compressionDictionary = compressionDictionary
        self.level = level
        self.dictionary = dictionary
    }

    deinit {
        if let compressionDictionary { ZSTD_freeCDict(compressionDictionary) }
        ZSTD_freeCCtx(context)
    }

    /// Compresses `input` into one zstd frame (content size and, with a dictionary, its id in the header).
    public func compress(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        var output: [UInt8] = []
        try compress(input, appendingTo: &output)
        return output
    }

    public func compress(_ input: [UInt8]) throws -> [UInt8] {
        try input.withUnsafeBytes { try compress($0) }
    }

    /// Compresses `input` into one zstd frame appended to `output`; returns the frame's size.
    @discardableResult
    public func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) throws -> Int {
        let bound = ZSTD_compressBound(input.count)
        try ZstdError.check(bound, "ZSTD_compressBound")
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: bound))
        let written = output.withUnsafeMutableBytes { out -> Int in
            let destination = out.baseAddress! + start
            if let compressionDictionary {
                return ZSTD_compress_usingCDict(
                    context, destination, bound, input.baseAddress, input.count, compressionDictionary)
            }
            return ZSTD_compressCCtx(context, destination, bound, input.baseAddress, input.count, level)
        }
        do {
            try ZstdError.check(written, "ZSTD_compress")
        } catch {
            output.removeSubrange(start...)
            throw error
        }
        output.removeSubrange((start + written)...)
        return written
    }
}
