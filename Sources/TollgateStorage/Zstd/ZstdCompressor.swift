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
    ///   - windowLog: the window's size as a power of two (zstd's default for the level when nil). What a frame
    ///     compressed in pieces (`compress(size:input:output:)`) holds of its input at most.
    public init(
        level: Int32 = 3, dictionary: ZstdDictionary? = nil, contentChecksum: Bool = false, windowLog: Int32? = nil
    ) throws {
        guard let context = ZSTD_createCCtx() else { throw ZstdError(.library, "ZSTD_createCCtx returned NULL") }
        var compressionDictionary: OpaquePointer?
        do {
            try ZstdError.check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level), "set level")
            try ZstdError.check(ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1), "set content size flag")
            try ZstdError.check(
                ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, contentChecksum ? 1 : 0), "set checksum flag")
            if let windowLog {
                try ZstdError.check(ZSTD_CCtx_setParameter(context, ZSTD_c_windowLog, windowLog), "set window log")
            }
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

    /// Compresses `size` bytes into one frame (content size in the header, as `compress` writes it) without
    /// holding them: `input` is called once and hands the bytes in pieces to the function it is given, and the
    /// compressed bytes go to `output` as zstd makes them, a buffer of `ZSTD_CStreamOutSize()` at a time. zstd keeps
    /// at most its window of the input (see `windowLog`). Throws when the pieces do not add up to `size`.
    public func compress(
        size: Int, input: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void,
        output: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        try ZstdError.check(ZSTD_CCtx_reset(context, ZSTD_reset_session_only), "ZSTD_CCtx_reset")
        try ZstdError.check(ZSTD_CCtx_setPledgedSrcSize(context, UInt64(size)), "ZSTD_CCtx_setPledgedSrcSize")
        let capacity = ZSTD_CStreamOutSize()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: capacity, pos: 0)
        // `input` and `output` are never called from within each other.
        try withoutActuallyEscaping(output) { output in
            func drain() throws {
                guard out.pos > 0 else { return }
                try output(UnsafeRawBufferPointer(rebasing: buffer[0..<out.pos]))
                out.pos = 0
            }
            try input { piece in
                var pieceBuffer = ZSTD_inBuffer(src: piece.baseAddress, size: piece.count, pos: 0)
                while pieceBuffer.pos < pieceBuffer.size {
                    try ZstdError.check(
                        ZSTD_compressStream2(context, &out, &pieceBuffer, ZSTD_e_continue), "ZSTD_compressStream2")
                    try drain()
                }
            }
            var end = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
            while true {
                let left = try ZstdError.check(
                    ZSTD_compressStream2(context, &out, &end, ZSTD_e_end), "ZSTD_compressStream2")
                try drain()
                if left == 0 { break }
            }
        }
    }
}
