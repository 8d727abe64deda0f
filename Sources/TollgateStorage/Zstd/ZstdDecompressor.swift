import CZstd

/// Decompresses single zstd frames. Owns a `ZSTD_DCtx`; knows dictionaries by id and picks the one a frame names.
///
/// Not thread-safe: one owner at a time (the segment reader keeps a pool of them).
public final class ZstdDecompressor {
    /// Frames whose declared content size exceeds this are rejected before any allocation.
    public static let defaultMaxContentSize = 1 << 30

    private let context: OpaquePointer
    private var dictionaries: [UInt32: ZstdDecompressionDictionary] = [:]

    public init() throws {
        guard let context = ZSTD_createDCtx() else { throw ZstdError(.library, "ZSTD_createDCtx returned NULL") }
        self.context = context
    }

    deinit {
        ZSTD_freeDCtx(context)
    }

    /// Makes a dictionary available to frames that name its id.
    public func add(_ dictionary: ZstdDictionary) throws {
        dictionaries[dictionary.id] = try ZstdDecompressionDictionary(dictionary)
    }

    /// Makes an already digested (shared) dictionary available.
    public func add(_ dictionary: ZstdDecompressionDictionary) {
        dictionaries[dictionary.id] = dictionary
    }

    public var dictionaryIDs: [UInt32] { dictionaries.keys.sorted() }

    /// The dictionary id a frame's header names, 0 when it names none. Throws when `frame` is not a zstd frame.
    public static func dictionaryID(ofFrame frame: UnsafeRawBufferPointer) throws -> UInt32 {
        // ZSTD_MAGICNUMBER 0xFD2FB528, little-endian.
        guard frame.count >= 4, frame[0] == 0x28, frame[1] == 0xB5, frame[2] == 0x2F, frame[3] == 0xFD else {
            throw ZstdError(.invalidFrame, "not a zstd frame")
        }
        return ZSTD_getDictID_fromFrame(frame.baseAddress, frame.count)
    }

    /// Decompresses one frame, with the dictionary its header names (from those added).
    public func decompress(_ frame: UnsafeRawBufferPointer, maxContentSize: Int = defaultMaxContentSize) throws
        -> [UInt8]
    {
        let id = try Self.dictionaryID(ofFrame: frame)
        var dictionary: ZstdDecompressionDictionary?
        if id != 0 {
            guard let known = dictionaries[id] else {
                throw ZstdError(.missingDictionary, "frame needs dictionary \(id), which is not loaded")
            }
            dictionary = known
        }
        return try decompress(frame, dictionary: dictionary, maxContentSize: maxContentSize)
    }

    public func decompress(_ frame: [UInt8], maxContentSize: Int = defaultMaxContentSize) throws -> [UInt8] {
        try frame.withUnsafeBytes { try decompress($0, maxContentSize: maxContentSize) }
    }

    /// Decompresses one frame with the given dictionary (which must be the one the frame names, if any).
    public func decompress(
        _ frame: UnsafeRawBufferPointer, dictionary: ZstdDecompressionDictionary?,
        maxContentSize: Int = defaultMaxContentSize
    ) throws -> [UInt8] {
        let declared = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
        // ZSTD_CONTENTSIZE_UNKNOWN is (0ULL - 1), ZSTD_CONTENTSIZE_ERROR is (0ULL - 2).
        if declared == UInt64.max - 1 { throw ZstdError(.invalidFrame, "not a valid zstd frame header") }
        if declared == UInt64.max { throw ZstdError(.invalidFrame, "frame does not declare its content size") }
        guard declared <= UInt64(maxContentSize) else {
            throw ZstdError(.invalidFrame, "frame declares \(declared) bytes, more than the limit \(maxContentSize)")
        }
        let size = Int(declared)
        if size == 0 {
            // Still validate the frame (checksum, structure).
            var scratch: UInt8 = 0
            let result = withUnsafeMutableBytes(of: &scratch) { out in
                run(out.baseAddress!, 0, frame, dictionary)
            }
            try ZstdError.check(result, "ZSTD_decompress")
            return []
        }
        var output = [UInt8](repeating: 0, count: size)
        let written = output.withUnsafeMutableBytes { out in run(out.baseAddress!, out.count, frame, dictionary) }
        try ZstdError.check(written, "ZSTD_decompress")
        guard written == size else {
            throw ZstdError(.invalidFrame, "frame produced \(written) bytes, header declared \(size)")
        }
        return output
    }

    private func run(
        _ destination: UnsafeMutableRawPointer, _ capacity: Int, _ frame: UnsafeRawBufferPointer,
        _ dictionary: ZstdDecompressionDictionary?
    ) -> Int {
        if let dictionary {
            return ZSTD_decompress_usingDDict(
                context, destination, capacity, frame.baseAddress, frame.count, dictionary.handle)
        }
        return ZSTD_decompressDCtx(context, destination, capacity, frame.baseAddress, frame.count)
    }
}
