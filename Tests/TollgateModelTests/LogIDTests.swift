import Foundation
import Testing
import TollgateModel

/// Log ids as the proxy makes them: UUIDv7, increasing in one process even within a millisecond, unique across
/// threads, with random bits that differ from id to id.
struct LogIDTests {
    @Test func idsIncreaseAndKeepTheirVersionAndVariant() {
        let generator = LogIDGenerator()
        var ids: [LogID] = []
        // Many in one millisecond (more than its counter holds: the next millisecond is borrowed), then later ones.
        for _ in 0..<5_000 { ids.append(generator.next(millisecondsSinceEpoch: 1_800_000_000_000)) }
        for ms in Int64(1_800_000_000_010)..<1_800_000_000_300 {
            ids.append(generator.next(millisecondsSinceEpoch: ms))
        }
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
        #expect(ids.allSatisfy { ($0.high >> 12) & 0xF == 7 && $0.low >> 62 == 0b10 })
        #expect(ids[0].milliseconds == 1_800_000_000_000 && ids.last?.milliseconds == 1_800_000_000_299)
        #expect(LogID(ids[42].description) == ids[42])
        // The random bits, drawn in bulk, still differ from id to id and across refills.
        let randomParts = Set(ids.map { $0.low & 0x3FFF_FFFF_FFFF_FFFF })
        #expect(randomParts.count == ids.count)
    }

    /// The hyphenated form is written eight hex digits at a time: every digit in its place, `a`–`f` lowercase, for
    /// ids with every nibble value in every position, as Foundation's UUID writes the same sixteen bytes.
    @Test func theHyphenatedFormIsTheUUIDText() {
        var random = SplitMix64(seed: 11)
        var ids = [
            LogID(high: 0, low: 0), LogID(high: .max, low: .max),
            LogID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210),
        ]
        for _ in 0..<2_000 { ids.append(LogID(high: random.next(), low: random.next())) }
        for id in ids {
            let b = id.bytes
            let uuid = UUID(
                uuid: (
                    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
                ))
            #expect(id.description == uuid.uuidString.lowercased())
            #expect(LogID(id.description) == id)
        }
    }

    @Test func idsFromManyThreadsAreUnique() async {
        let generator = LogIDGenerator()
        let batches = await withTaskGroup(of: [LogID].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<2_000).map { _ in generator.next() } }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(batches.joined()).count == 16_000)
        for batch in batches { #expect(zip(batch, batch.dropFirst()).allSatisfy { $0 < $1 }) }
    }
}
