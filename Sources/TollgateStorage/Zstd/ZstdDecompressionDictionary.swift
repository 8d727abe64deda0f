import CZstd

/// A dictionary digested for decompression (`ZSTD_DDict`), shareable between decompressors and threads.
// @unchecked Sendable: the DDict is created once and never mutated afterwards; zstd documents a DDict as read-only
// during decompression, so any number of contexts on any threads may use it at once.
public final class ZstdDecompressionDictionary: @unchecked Sendable {
    public let id: UInt32
    let handle: OpaquePointer

    public init(_ dictionary: ZstdDictionary) throws {
        guard let handle = dictionary.bytes.withUnsafeBytes({ ZSTD_createDDict($0.baseAddress, $0.count) }) else {
            throw ZstdError(.library, "ZSTD_createDDict returned NULL for dictionary \(dictionary.id)")
        }
        self.id = dictionary.id
        self.handle = handle
    }

    deinit {
        ZSTD_freeDDict(handle)
    }
}
