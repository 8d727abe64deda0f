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

    /// Fixture-like records (chat completion and messages JSON, 1–3 KB): once the dictionary is trained, stored
    /// record frames take at most a quarter of the raw JSON.
    @Test func storedSizeIsAtMostAQuarterOfRawJSON() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var factory = RecordFactory(seed: 2024)
        let records = (0..<3000).map { _ in factory.record() }
        let writer = try SegmentWriter(directory: dir.path, logger: quietLogger)
        var locations: [RecordLocation] = []
        let start = Self.monotonicSeconds()
        for record in records { locations.append(try writer.append(record)) }
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
            segment store: \(records.count) records, raw JSON \(rawAll) B (avg \(rawAll / records.count) B/record); \
            after dictionary (from record \(trainedAt)): stored/raw = \(String(format3(ratio))) \
            (\(String(format3(Double(raw) / Double(stored))))x); all records: \
            \(String(format3(Double(storedAll) / Double(rawAll)))); whole store incl. dictionary, index, columns: \
            \(String(format3(Double(fileBytes) / Double(rawAll)))); \
            append rate (debug build, incl. training and sync): \(Int(Double(records.count) / elapsed)) records/s
            """)
        #expect(ratio <= 0.25, "stored/raw = \(ratio)")
        // Everything reads back.
        for (i, location) in locations.enumerated() where i % 97 == 0 {
            #expect(try reader.read(location) == records[i])
        }
    }

    func format3(_ x: Double) -> String {
        let scaled = Int((x * 1000).rounded())
        let fraction = String(scaled % 1000)
        return "\(scaled / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
