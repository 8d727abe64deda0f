/// What the writer keeps of its first records to train a zstd dictionary, and when it trains: a value type fed
/// record encodings, with no I/O (FORMAT.md, "Record frames and compression").
///
/// A record is sampled in pieces of at most `pieceBytes`, at most `bytesPerRecord` of it (its head, where the
/// names and headers are, and pieces spread evenly over the rest), so a store of long prompts gets as many samples
/// from its first records as a store of short ones. Training is due once `sampleRecords` records or `sampleBytes`
/// bytes are sampled, and never with fewer than `ZstdDictionary.minimumSamples` samples: then it waits for more. After a
/// failed training (or a dictionary that could not be saved) the next `retryAfterRecords · 2ⁿ⁻¹` records (at most
/// 64 times that) are not sampled, then sampling starts over (or the save is tried again).
struct DictionaryTraining {
    var enabled: Bool
    let sampleRecords: Int
    let sampleBytes: Int
    let pieceBytes: Int
    let bytesPerRecord: Int
    let retryAfterRecords: Int

    private(set) var samples = ZstdDictionary.Samples()
    private(set) var bytes = 0
    private(set) var records = 0
    /// Trainings or saves that failed.
    private(set) var failures = 0
    /// Records still to let pass before sampling (or saving) again.
    private(set) var skip = 0
    /// A trained dictionary whose save failed, to save on the next try instead of training again.
    private(set) var unsaved: ZstdDictionary?

    init(configuration: SegmentWriter.Configuration, enabled: Bool) {
        self.enabled = enabled
        self.sampleRecords = max(1, configuration.dictionarySampleRecords)
        self.sampleBytes = max(1, configuration.dictionarySampleBytes)
        self.pieceBytes = max(64, configuration.dictionarySamplePieceBytes)
        self.bytesPerRecord = max(self.pieceBytes, configuration.dictionarySampleBytesPerRecord)
        self.retryAfterRecords = max(1, configuration.dictionaryRetryAfterRecords)
    }

    /// Takes the samples of one record encoding; returns whether a training (or a save of `unsaved`) is due now.
    mutating func add(_ encoded: [UInt8]) -> Bool {
        guard enabled else { return false }
        if skip > 0 {
            skip -= 1
            return false
        }
        if unsaved != nil { return true }
        if samples.isEmpty { samples.reserveCapacity(bytes: sampleBytes + bytesPerRecord) }
        for range in Self.pieces(count: encoded.count, pieceBytes: pieceBytes, maxBytes: bytesPerRecord) {
            samples.append(encoded[range])
            bytes += range.count
        }
        records += 1
        guard records >= sampleRecords || bytes >= sampleBytes else { return false }
        // zstd cannot train on fewer samples: keep sampling.
        return samples.count >= ZstdDictionary.minimumSamples
    }

    /// The training failed: drop the samples and wait before sampling again. Returns the records to wait.
    mutating func failed() -> Int {
        samples = ZstdDictionary.Samples()
        bytes = 0
        records = 0
        return backOff()
    }

    /// `dictionary` was trained but not saved: keep it, wait, then try the save again. Returns the records to wait.
    mutating func saveFailed(_ dictionary: ZstdDictionary) -> Int {
        unsaved = dictionary
        samples = ZstdDictionary.Samples()
        bytes = 0
        records = 0
        return backOff()
    }

    /// A dictionary was saved and is in use: training is over.
    mutating func finished() {
        enabled = false
        samples = ZstdDictionary.Samples()
        bytes = 0
        records = 0
        unsaved = nil
    }

    private mutating func backOff() -> Int {
        failures += 1
        skip = retryAfterRecords * min(1 << min(failures - 1, 6), 64)
        return skip
    }

    /// The byte ranges sampled from a record of `count` bytes: the whole record when it fits in one piece, else
    /// up to `maxBytes / pieceBytes` pieces, the first at the start, the last at the end, the others evenly between.
    static func pieces(count: Int, pieceBytes: Int, maxBytes: Int) -> [Range<Int>] {
        guard count > pieceBytes else { return count > 0 ? [0..<count] : [] }
        let wanted = (count + pieceBytes - 1) / pieceBytes
        let n = max(1, min(wanted, maxBytes / pieceBytes))
        guard n > 1 else { return [0..<pieceBytes] }
        let span = count - pieceBytes
        return (0..<n).map { k in
            let start = span * k / (n - 1)
            return start..<(start + pieceBytes)
        }
    }
}
