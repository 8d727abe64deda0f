import Testing

@testable import TollgateStorage

@Suite("Segment rotation state machine")
struct SegmentRotationTests {
    func machine(maxBytes: UInt64 = 1000, maxAge: Int64 = 60_000) -> SegmentRotation {
        SegmentRotation(maxBytes: maxBytes, maxAgeMillis: maxAge, bytes: 16)
    }

    @Test func appendsUntilSizeWouldBePassed() {
        var m = machine()
        #expect(m.append(frameBytes: 400, now: 0, headerBytes: 16) == .append)
        #expect(m.append(frameBytes: 400, now: 1, headerBytes: 16) == .append)
        #expect(m.bytes == 816)
        #expect(m.append(frameBytes: 184, now: 2, headerBytes: 16) == .append)  // exactly 1000
        #expect(m.append(frameBytes: 1, now: 3, headerBytes: 16) == .sealThenAppend)
        #expect(m.bytes == 17)
        #expect(m.records == 1)
        #expect(m.firstAppendAt == 3)
    }

    @Test func oversizedRecordGetsASegmentOfItsOwn() {
        var m = machine()
        #expect(m.append(frameBytes: 5000, now: 0, headerBytes: 16) == .append)  // empty segment: no seal
        #expect(m.append(frameBytes: 10, now: 0, headerBytes: 16) == .sealThenAppend)
        #expect(m.append(frameBytes: 5000, now: 0, headerBytes: 16) == .sealThenAppend)
        #expect(m.records == 1)
    }

    @Test func sealsByAgeOfTheFirstRecord() {
        var m = machine()
        #expect(!m.shouldSeal(now: 1_000_000))  // empty: never by age
        #expect(m.append(frameBytes: 10, now: 1000, headerBytes: 16) == .append)
        #expect(m.append(frameBytes: 10, now: 50_000, headerBytes: 16) == .append)
        #expect(!m.shouldSeal(now: 60_999))
        #expect(m.shouldSeal(now: 61_000))
        #expect(m.append(frameBytes: 10, now: 61_000, headerBytes: 16) == .sealThenAppend)
        #expect(m.firstAppendAt == 61_000)
        #expect(!m.shouldSeal(now: 120_999))
        m.startSegment(headerBytes: 16)
        #expect(m.records == 0 && m.bytes == 16 && m.firstAppendAt == nil)
        #expect(!m.shouldSeal(now: 10_000_000))
    }

    @Test func sealsAtTheRecordLimitWhateverTheSize() {
        var m = SegmentRotation(maxBytes: 1 << 30, maxRecords: 3, maxAgeMillis: 1 << 40, bytes: 16)
        for _ in 0..<3 { #expect(m.append(frameBytes: 10, now: 0, headerBytes: 16) == .append) }
        #expect(m.append(frameBytes: 10, now: 0, headerBytes: 16) == .sealThenAppend)
        #expect(m.records == 1)
        // Resumed after recovery with the limit reached: the next append seals.
        var resumed = SegmentRotation(maxBytes: 1 << 30, maxRecords: 3, maxAgeMillis: 1 << 40, bytes: 46, records: 3)
        #expect(resumed.append(frameBytes: 10, now: 0, headerBytes: 16) == .sealThenAppend)
    }

    @Test func resumesFromRecoveredState() {
        var m = SegmentRotation(maxBytes: 1000, maxAgeMillis: 100, bytes: 990, records: 3, firstAppendAt: 0)
        #expect(m.shouldSeal(now: 100))
        #expect(m.append(frameBytes: 20, now: 5, headerBytes: 16) == .sealThenAppend)
    }
}
