import Testing
import TollgateModel

@testable import TollgateStorage

@Suite("Record codec")
struct RecordCodecTests {
    func minimal() -> LogRecord {
        LogRecord(
            id: LogID(high: 0x0190_A6F2_7C1E_7D3A, low: 0x9B2F_1C2D_3E4F_5A6B), createdAt: 1_764_000_000_123,
            account: "default", gateway: "default", provider: "openai", model: nil, path: "/chat/completions",
            method: "POST", statusCode: 200, success: true, stream: false, durationMicros: 1234, ttftMicros: nil,
            requestSize: 0, responseSize: 0)
    }

    @Test func minimalRecordRoundTrips() throws {
        let record = minimal()
        #expect(try RecordCodec.decode(RecordCodec.encode(record)) == record)
    }

    @Test func nilTokensStayNilAndZeroStaysZero() throws {
        var unknown = minimal()
        unknown.usage = Usage()
        let decodedUnknown = try RecordCodec.decode(RecordCodec.encode(unknown))
        #expect(decodedUnknown.usage.tokensIn == nil)
        #expect(decodedUnknown.usage.isUnknown)

        var zeros = minimal()
        zeros.usage = Usage(
            tokensIn: 0, cachedTokensIn: 0, cacheWriteTokens: 0, cacheWrite1hTokens: 0, tokensOut: 0,
            reasoningTokens: 0, serviceTier: "")
        zeros.ttftMicros = 0
        let decodedZeros = try RecordCodec.decode(RecordCodec.encode(zeros))
        #expect(decodedZeros == zeros)
        #expect(decodedZeros.usage.tokensIn == 0)
        #expect(decodedZeros.usage.serviceTier == "")
        #expect(decodedZeros.ttftMicros == 0)
    }

    @Test func everyFieldRoundTrips() throws {
        var record = minimal()
        record.model = "claude-sonnet-4-20250514"
        record.statusCode = 504
        record.success = false
        record.stream = true
        record.durationMicros = -1  // signed values survive zigzag
        record.ttftMicros = Int64.max
        record.usage = Usage(
            tokensIn: 1_000_000_000_000, cachedTokensIn: 12, cacheWriteTokens: 34, cacheWrite1hTokens: 5,
            tokensOut: Int64.min, reasoningTokens: 7, serviceTier: "priority")
        record.requestSize = 25 * 1024 * 1024
        record.responseSize = 3
        record.error = "upstream timed out after 30 s"
        record.metadata = [
            MetadataEntry("user", .string("alice")), MetadataEntry("n", .number(-2.5)),
            MetadataEntry("big", .number(1e300)), MetadataEntry("flag", .bool(true)),
            MetadataEntry("off", .bool(false)),
        ]
        record.requestHeaders = [
            Header("content-type", "application/json"), Header("x-dup", "1"), Header("x-dup", "2"),
        ]
        record.responseHeaders = [Header("content-type", "text/event-stream"), Header("empty", "")]
        record.requestBody = Array("{\"model\":\"x\"}".utf8)
        record.responseBody = Array("data: [DONE]\n\n".utf8)
        record.payloadStored = false
        record.customCost = .perToken(input: 1_000_000, output: 0)
        #expect(try RecordCodec.decode(RecordCodec.encode(record)) == record)
        record.customCost = .total(12_500_000_000)
        #expect(try RecordCodec.decode(RecordCodec.encode(record)) == record)
        // What the gateway's controls add: a retry of a fallback step, answered from the cache; a refusal.
        record.eventID = "client-event-7"
        record.attempt = 3
        record.step = 1
        record.cached = true
        #expect(try RecordCodec.decode(RecordCodec.encode(record)) == record)
        record.refusal = .spendLimitExceeded
        record.logged = false
        #expect(try RecordCodec.decode(RecordCodec.encode(record)) == record)
        #expect(record.usageRecord.cached && record.usageRecord.refusal == .spendLimitExceeded)
    }

    /// A record without the controls' fields pays nothing for them: the defaults are not written.
    @Test func controlDefaultsAreNotWritten() throws {
        var record = minimal()
        let plain = RecordCodec.encode(record)
        record.eventID = nil
        record.attempt = 1
        record.step = nil
        record.cached = false
        #expect(RecordCodec.encode(record) == plain)
        record.attempt = 2
        #expect(RecordCodec.encode(record).count == plain.count + 3)  // a 2-byte key, zigzag 4
        #expect(try RecordCodec.decode(RecordCodec.encode(record)).attempt == 2)
    }

    @Test func unicodeSurvives() throws {
        var record = minimal()
        record.account = "ünïcödé"
        record.model = "模型-🚀"
        record.error = "Fehler: «zeitüberschreitung» — 😱"
        record.metadata = [MetadataEntry("名前", .string("値 ✓"))]
        record.requestHeaders = [Header("x-emoji", "👍🏽")]
        record.requestBody = Array("{\"content\":\"Привет, 世界! 🎉\"}".utf8)
        #expect(try RecordCodec.decode(RecordCodec.encode(record)) == record)
    }

    @Test func emptyAndLargeBodies() throws {
        var empty = minimal()
        empty.requestBody = []
        empty.responseBody = []
        #expect(try RecordCodec.decode(RecordCodec.encode(empty)) == empty)

        var large = minimal()
        var random = SplitMix64(seed: 1)
        large.requestBody = (0..<(5 * 1024 * 1024)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        large.responseBody = [UInt8](repeating: 0x41, count: 300_000)
        let encoded = RecordCodec.encode(large)
        #expect(encoded.count > 5 * 1024 * 1024 + 300_000)
        #expect(try RecordCodec.decode(encoded) == large)
    }

    @Test func fixtureLikeRecordsRoundTrip() throws {
        var factory = RecordFactory()
        for _ in 0..<200 {
            let record = factory.record()
            #expect(try RecordCodec.decode(RecordCodec.encode(record)) == record)
        }
    }

    @Test func unknownFieldsAreSkipped() throws {
        let record = minimal()
        var bytes = RecordCodec.encode(record)
        // A later version adds fields 100 (varint), 101 (fixed64), 102 (bytes), and a header sub-field.
        var w = WireWriter()
        w.varint(100 << 3 | 0)
        w.varint(123_456)
        w.varint(101 << 3 | 1)
        w.u64(42)
        w.varint(102 << 3 | 2)
        w.lengthPrefixed(Array("future".utf8))
        var nested = WireWriter()
        nested.varint(1 << 3 | 2)
        nested.lengthPrefixed("x-new")
        nested.varint(9 << 3 | 0)
        nested.varint(1)
        nested.varint(2 << 3 | 2)
        nested.lengthPrefixed("v")
        w.varint(25 << 3 | 2)
        w.lengthPrefixed(nested.bytes)
        bytes.insert(contentsOf: w.bytes, at: 1)
        var expected = record
        expected.requestHeaders = [Header("x-new", "v")]
        #expect(try RecordCodec.decode(bytes) == expected)
    }

    @Test func rejectsOtherVersionsAndTruncation() throws {
        let record = minimal()
        var bytes = RecordCodec.encode(record)
        // A prefix cut inside the id or inside a field throws. (A prefix ending between fields decodes with the
        // missing fields at their defaults: catching truncation on disk is the frame checksum's job.)
        for cut in 0..<bytes.count {
            let decoded = try? RecordCodec.decode(Array(bytes[0..<cut]))
            if cut < 19 { #expect(decoded == nil, "prefix of \(cut) bytes decoded") }
        }
        #expect(try RecordCodec.decode(bytes) == record)
        let account = try #require(bytes.indices.first { Array(bytes[$0..<($0 + 7)]) == Array("default".utf8) })
        #expect(throws: SegmentError.self) { try RecordCodec.decode(Array(bytes[0..<(account + 3)])) }
        bytes[0] = 2
        #expect { try RecordCodec.decode(bytes) } throws: { ($0 as? SegmentError)?.code == .unsupportedVersion }
        #expect(throws: SegmentError.self) { try RecordCodec.decode([1]) }  // no id
    }

    /// The encoding is a disk format: a record encodes to the same bytes in every build (FORMAT.md, "Record
    /// encoding"). A checksum over 400 varied records, every field set in some, pins them.
    @Test func encodingBytesStayTheSame() {
        var factory = RecordFactory(seed: 7)
        var records: [LogRecord] = []
        for i in 0..<400 {
            var record = factory.record()
            record.id = LogID(high: 0x0190_0000_0000_7000 | UInt64(i), low: 0x8000_0000_0000_0000 | UInt64(i) * 7919)
            record.useRarerFields(i)
            records.append(record)
        }
        var crc: UInt32 = 0xFFFF_FFFF
        var bytes = 0
        for record in records {
            let encoded = RecordCodec.encode(record)
            crc = encoded.withUnsafeBytes { CRC32C.update(crc, $0) }
            bytes += encoded.count
        }
        #expect(bytes == 1_046_437)
        #expect(~crc == 3_411_936_590)
    }

    @Test func encodingIsCompact() {
        let record = minimal()
        // Fixed fields only: tags and varints, no names.
        #expect(RecordCodec.encode(record).count < 110)
    }
}
