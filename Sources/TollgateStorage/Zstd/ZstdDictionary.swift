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

    /// Trains a dictionary of at most `capacity` bytes from `samples`, tuned for `level` and carrying `id`.
    ///
    /// zstd's fastCover trainer run once, with d = 8 and segments of `segmentBytes` (zstd's k), and a frequency
    /// table of 2^`frequencyLog` entries instead of 2^20: the trainer needs 6 · 2^f bytes, 6 MiB at zstd's default,
    /// held beside the samples while the gateway serves its first requests; at f = 18, 1.5 MiB. `ZDICT_trainFromBuffer`
    /// instead trains four times, for four values of k, on three quarters of the samples, and keeps the one that
    /// compresses the last quarter best: about three times the work, on the writer's thread, for dictionaries that
    /// compressed these stores no better (FORMAT.md, "Record frames and compression").
    ///
    /// Ids in 32768..<2^31 are zstd's range for private dictionaries. Throws `.trainingFailed` when zstd cannot
    /// build a dictionary from these samples (too few, too small or all alike).
    public static func train(
        samples: Samples, capacity: Int = 64 * 1024, id: UInt32, level: Int32 = 3, frequencyLog: UInt32 = 18,
        segmentBytes: UInt32 = 1000
    ) throws -> ZstdDictionary {
        guard samples.count >= minimumSamples else {
            throw ZstdError(.trainingFailed, "needs at least \(minimumSamples) samples, got \(samples.count)")
        }
        guard id >= 32768 && id < 1 << 31 else { throw ZstdError(.trainingFailed, "dictionary id \(id) out of range") }
        var parameters = ZDICT_fastCover_params_t()
        parameters.k = min(segmentBytes, UInt32(clamping: capacity))
        parameters.d = 8
        parameters.f = frequencyLog
        parameters.nbThreads = 1
        parameters.zParams = ZDICT_params_t(compressionLevel: level, notificationLevel: 0, dictID: id)
        var trained = [UInt8](repeating: 0, count: capacity)
        let trainedSize = trained.withUnsafeMutableBytes { out in
            samples.bytes.withUnsafeBytes { input in
                samples.sizes.withUnsafeBufferPointer { sizes in
                    ZDICT_trainFromBuffer_fastCover(
                        out.baseAddress, out.count, input.baseAddress, sizes.baseAddress, UInt32(sizes.count),
                        parameters)
                }
            }
        }
        if ZDICT_isError(trainedSize) != 0 {
            throw ZstdError(
                .trainingFailed,
                "ZDICT_trainFromBuffer_fastCover: \(String(cString: ZDICT_getErrorName(trainedSize)))")
        }
        trained.removeSubrange(trainedSize..<trained.count)
        return try ZstdDictionary(bytes: trained)
    }

    /// Samples to train on, end to end in one buffer with their sizes: the layout zstd's trainer reads, kept so as
    /// the writer samples (no copy of them to train).
    public struct Samples: Sendable {
        public private(set) var bytes: [UInt8] = []
        public private(set) var sizes: [Int] = []

        public init() {}

        public init(_ samples: [[UInt8]]) {
            for sample in samples { append(sample[...]) }
        }

        public var count: Int { sizes.count }
        public var isEmpty: Bool { sizes.isEmpty }

        /// Room for `bytes` of samples, so that sampling up to the training budget allocates once.
        public mutating func reserveCapacity(bytes: Int) {
            self.bytes.reserveCapacity(bytes)
        }

        public mutating func append(_ sample: ArraySlice<UInt8>) {
            bytes.append(contentsOf: sample)
            sizes.append(sample.count)
        }
    }
}
