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
    ///   - contentChecksum: add zstd's own content checksum to each frame (4 bytes), so that decompression
    ///     detects corruption. Off by default: segment frames carry a CRC-32C already.
    public init(level: Int32 = 3, dictionary: ZstdDictionary? = nil, contentChecksum: Bool = false) throws {
        guard let context = ZSTD_createCCtx() else { throw ZstdError(.library, "ZSTD_createCCtx returned NULL") }
        var compressionDictionary: OpaquePointer?
        do {
            try ZstdError.check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level), "set level")
            try ZstdError.check(ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1), "set content size flag")
            try ZstdError.check(
                ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, contentChecksum ? 1 : 0), "set checksum flag")
            if let dictionary {
                compressionDictionary = dictionary.bytes.withUnsafeBytes {
                    ZSTD_createCDict($0.baseAddress, $0.count, level)
                }
                guard let compressionDictionary else {
                    throw ZstdError(.library, "ZSTD_createCDict returned NULL for dictionary \(dictionary.id)")
                }
                try ZstdError.check(ZSTD_CCtx_refCDict(context, compressionDictionary), "ZSTD_CCtx_refCDict")
                // ZSTD_c_forceAttachDict (experimental parameter 1001) = ZSTD_dictForceAttach: search the
                // dictionary's tables in place instead of copying them into the context for every frame, which zstd
                // does by default for inputs above a few KB (a segment block). A hint: a library that does not know
                // it compresses as before.
                _ = ZSTD_CCtx_setParameter(context, ZSTD_cParameter(rawValue: 1001), 1)
            }
        } catch {
            if let compressionDictionary { ZSTD_freeCDict(compressionDictionary) }
            ZSTD_freeCCtx(context)
            throw error
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
        let bound = try ZstdError.check(ZSTD_compressBound(input.count), "ZSTD_compressBound")
        return try [UInt8](unsafeUninitializedCapacity: bound) { out, count in
            // Parameters and the dictionary stay on the context across frames (ZSTD_compress2 resets the session).
            let written = ZSTD_compress2(context, out.baseAddress, bound, input.baseAddress, input.count)
            count = 0
            try ZstdError.check(written, "ZSTD_compress2")
            count = written
        }
    }

    public func compress(_ input: [UInt8]) throws -> [UInt8] {
        try input.withUnsafeBytes { try compress($0) }
    }
}
