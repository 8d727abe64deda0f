import Glibc
import Testing
import TollgateModel

@testable import TollgateStorage

@Suite("Segment compression and append rate")
struct SegmentCompressionTests {
    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Fixture-like records (chat completion and messages JSON, 1–3 KB, each application sending its own system
    /// prompt): once the dictionary is trained, stored record frames take at most a quarter of the raw JSON.
    @Test func storedSizeIsAtMostAQuarterOfRawJSON() throws {
        let ratio = try measure(RecordFactory(seed: 2024), label: "application traffic")
        #expect(ratio <= 0.25, "stored/raw = \(ratio)")
    }

    /// The least compressible case: a different system prompt in every record, so only structure, header names and
    /// vocabulary repeat. The dictionary still helps, but text dominates.
    @Test func storedSizeWhenEveryPromptIsUnique() throws {
        let ratio = try measure(RecordFactory(seed: 2025, uniquePrompts: true), label: "unique prompts")
        #expect(ratio <= 0.31, "stored/raw = \(ratio)")
    }

    /// A store whose first records are long (60–150 KB prompts) still trains a dictionary while it runs: records are
    /// sampled in pieces, so the sample budget holds enough samples. Records after the dictionary are stored smaller
    /// than the same records compressed without one.
    @Test func aStoreOfLongPromptsTrainsADictionaryAndStoresSmaller() throws {
        var factory = RecordFactory(seed: 77)
        let records = (0..<140).map { _ in factory.longRecord() }
        #expect(records.allSatisfy { $0.requestBody.count > 60_000 })

        func store(
            trainsDictionary: Bool
        ) throws -> (locations: [RecordLocation], dictionaryID: UInt32?, firstWithDictionary: Int?) {
            let dir = TemporaryDirectory()
            defer { dir.remove() }
            var configuration = SegmentWriter.Configuration()
            configuration.formatVersion = 1  // one zstd frame per record, inspected below
            configuration.trainsDictionary = trainsDictionary
            let writer = try SegmentWriter(directory: dir.path, configuration: configuration, logger: quietLogger)
            let locations = try records.map { try writer.append($0) }
            try writer.sync()
            let reader = SegmentReader(directory: dir.path)
            for (i, location) in locations.enumerated() where i % 13 == 0 {
                #expect(try reader.read(location) == records[i])
            }
            let id = writer.dictionaryID
            try writer.close()
            let first = try locations.firstIndex { location in
                let frame = try SegmentFile.openForReading(dir.segmentPath(location.segment))
                    .read(count: Int(location.length), at: location.offset)
                let frameID = try frame[SegmentFormat.frameHeaderSize...].withUnsafeBytes {
                    try ZstdDecompressor.dictionaryID(ofFrame: $0)
                }
                return frameID == id
            }
            return (locations, id, first)
        }
        let trained = try store(trainsDictionary: true)
        let plain = try store(trainsDictionary: false)
        #expect(plain.dictionaryID == nil)
        _ = try #require(trained.dictionaryID)
        // 1 MiB of samples at 16 KiB per record: the 64th record trains it and is the first compressed with it.
        let from = try #require(trained.firstWithDictionary)
        #expect(from == 63)
        let withDictionary = trained.locations[from...].reduce(0) { $0 + Int($1.length) }
        let without = plain.locations[from...].reduce(0) { $0 + Int($1.length) }
        let raw = records[from...].reduce(0) { $0 + RecordFactory.rawJSONSize($1) }
        let gain = 1 - Double(withDictionary) / Double(without)
        print(
            "long prompts: \(records.count) records, avg \(raw / (records.count - from)) B raw; dictionary from record "
                + "\(from); stored/raw \(format3(Double(without) / Double(raw))) without, "
                + "\(format3(Double(withDictionary) / Double(raw))) with the dictionary (\(format3(gain)) smaller)")
        #expect(gain >= 0.06, "with \(withDictionary) B, without \(without) B")
    }

    func measure(_ factory: RecordFactory, label: String) throws -> Double {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var factory = factory
        let records = (0..<3000).map { _ in factory.record() }
        var configuration = SegmentWriter.Configuration()
        configuration.formatVersion = 1  // one zstd frame per record, inspected below
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration, logger: quietLogger)
        var locations: [RecordLocation] = []
        let start = Self.monotonicSeconds()
        var slowest = 0.0
        for record in records {
            let before = Self.monotonicSeconds()
            locations.append(try writer.append(record))
            slowest = max(slowest, Self.monotonicSeconds() - before)
        }
        try writer.sync()
        let elapsed = Self.monotonicSeconds() - start
        let dictionaryID = try #require(writer.dictionaryID)
        try writer.close()

        // Records appended after the dictionary was trained (the first frame naming it onwards).
        let reader = SegmentReader(directory: dir.path)
        var firstWithDictionary: Int?
        for (i, location) in locations.enumerated() {
            let frame = try SegmentFile.openForReading(dir.segmentPath(location.segment))
                .read(count: Int(location.length), at: location.offset)
            let id = try frame[SegmentFormat.frameHeaderSize...].withUnsafeBytes {
                try ZstdDecompressor.dictionaryID(ofFrame: $0)
            }
            if id == dictionaryID {
                firstWithDictionary = i
                break
            }
        }
        let trainedAt = try #require(firstWithDictionary)
        #expect(trainedAt > 0 && trainedAt <= 1000)
        let raw = records[trainedAt...].reduce(0) { $0 + RecordFactory.rawJSONSize($1) }
        let stored = locations[trainedAt...].reduce(0) { $0 + Int($1.length) }
        let rawAll = records.reduce(0) { $0 + RecordFactory.rawJSONSize($1) }
        let storedAll = locations.reduce(0) { $0 + Int($1.length) }
        var fileBytes: UInt64 = 0
        for segment in try reader.segments() { fileBytes += try fileSize(dir.segmentPath(segment)) }
        fileBytes += try fileSize(dir.path + "/dicts/\(dictionaryID).dict")
        let ratio = Double(stored) / Double(raw)
        print(
            """
            segment store, \(label): \(records.count) records, raw JSON \(rawAll) B (avg \(rawAll / records.count) B/record); \
            after dictionary (from record \(trainedAt)): stored/raw = \(String(format3(ratio))) \
            (\(String(format3(Double(raw) / Double(stored))))x); all records: \
            \(String(format3(Double(storedAll) / Double(rawAll)))); whole store incl. dictionary, index, columns: \
            \(String(format3(Double(fileBytes) / Double(rawAll)))); \
            append rate (debug build, incl. training and sync): \(Int(Double(records.count) / elapsed)) records/s, \
            slowest append (the one that trains the dictionary): \(Int(slowest * 1000)) ms
            """)
        // Everything reads back.
        for (i, location) in locations.enumerated() where i % 97 == 0 {
            #expect(try reader.read(location) == records[i])
        }
        return ratio
    }

    func format3(_ x: Double) -> String {
        let scaled = Int((x * 1000).rounded())
        let fraction = String(scaled % 1000)
        return "\(scaled / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
