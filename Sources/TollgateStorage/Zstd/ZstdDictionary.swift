import CZstd

/// A zstd dictionary: its id (from the dictionary header, also written into every frame compressed with it) and
/// its bytes as stored in `dicts/<id>.dict`.
public struct ZstdDictionary: Sendable, Hashable {
    public let id: UInt32
    public let bytes: [UInt8]

    /// Wraps dictionary bytes; fails when they are not a zstd dictionary with an id.
    public init(bytes: [UInt8]) throws {
        let id = bytes.withUnsafeBytes { ZDICT_getDictID($0.baseAddress, $0.count) }
        guard id != 0 else { throw ZstdError(.invalidFrame, "not a zstd dictionary (no dictionary id)") }
        self.id = id
        self.bytes = bytes
    }

    /// zstd does not train on fewer samples.
    public static let minimumSamples = 8

    /// Trains a dictionary of at most `capacity` bytes from `samples` with `ZDICT_trainFromBuffer`, then finalizes
    /// it with the given id (`ZDICT_finalizeDictionary`) tuned for `level`.
    ///
    /// Ids in 32768..<2^31 are zstd's range for private dictionaries. Throws `.trainingFailed` when zstd cannot
    /// build a dictionary from these samples (too few, too small or all alike).
    public static func train(
        samples: [[UInt8]], capacity: Int = 64 * 1024, id: UInt32, level: Int32 = 3
    ) throws -> ZstdDictionary {
        guard samples.count >= minimumSamples else {
            throw ZstdError(.trainingFailed, "needs at least \(minimumSamples) samples, got \(samples.count)")
        }
        guard id >= 32768 && id < 1 << 31 else { throw ZstdError(.trainingFailed, "dictionary id \(id) out of range") }
        var flat: [UInt8] = []
        flat.reserveCapacity(samples.reduce(0) { $0 + $1.count })
        var sizes: [Int] = []
        sizes.reserveCapacity(samples.count)
        for sample in samples {
            flat.append(contentsOf: sample)
            sizes.append(sample.count)
        }
        var trained = [UInt8](repeating: 0, count: capacity)
        let trainedSize = trained.withUnsafeMutableBytes { out in
            flat.withUnsafeBytes { input in
                sizes.withUnsafeBufferPointer { sizes in
                    ZDICT_trainFromBuffer(
                        out.baseAddress, out.count, input.baseAddress, sizes.baseAddress, UInt32(sizes.count))
                }
            }
        }
        if ZDICT_isError(trainedSize) != 0 {
            throw ZstdError(
                .trainingFailed, "ZDICT_trainFromBuffer: \(String(cString: ZDICT_getErrorName(trainedSize)))")
        }
        // Keep the trained content, drop its header (random id) and re-finalize it with the chosen id.
        let headerSize = trained.withUnsafeBytes { ZDICT_getDictHeaderSize($0.baseAddress, trainedSize) }
        if ZDICT_isError(headerSize) != 0 {
            throw ZstdError(
                .trainingFailed, "ZDICT_getDictHeaderSize: \(String(cString: ZDICT_getErrorName(headerSize)))")
        }
        let content = Array(trained[headerSize..<trainedSize])
        var finalized = [UInt8](repeating: 0, count: capacity)
        let params = ZDICT_params_t(compressionLevel: level, notificationLevel: 0, dictID: id)
        let finalSize = finalized.withUnsafeMutableBytes { out in
            content.withUnsafeBytes { content in
                flat.withUnsafeBytes { input in
                    sizes.withUnsafeBufferPointer { sizes in
                        ZDICT_finalizeDictionary(
                            out.baseAddress, out.count, content.baseAddress, content.count,
                            input.baseAddress, sizes.baseAddress, UInt32(sizes.count), params)
                    }
                }
            }
        }
        if ZDICT_isError(finalSize) != 0 {
            throw ZstdError(
                .trainingFailed, "ZDICT_finalizeDictionary: \(String(cString: ZDICT_getErrorName(finalSize)))")
        }
        return try ZstdDictionary(bytes: Array(finalized[0..<finalSize]))
    }
}
