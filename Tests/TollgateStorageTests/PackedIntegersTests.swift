import Testing
import TollgateModel

@testable import TollgateStorage

@Suite("Packed integers")
struct PackedIntegersTests {
    @Test func valuesReadBackAcrossEveryWidening() {
        // Each step needs the next width: 1 → 2 → 4 → 8 bytes, with the extremes of each width on both sides.
        let values: [Int64] = [
            0, 1, -1, 127, -128, 128, -129, 32_767, -32_768, 32_768, -32_769, 2_147_483_647, -2_147_483_648,
            2_147_483_648, -2_147_483_649, .max, .min, 200, 3,
        ]
        var packed = PackedIntegers()
        var widths: [Int] = []
        for (n, value) in values.enumerated() {
            packed.append(value)
            widths.append(packed.width)
            // Every value appended so far still reads back after each widening.
            #expect((0...n).map { packed[$0] } == Array(values[0...n]))
        }
        #expect(widths == [1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 8, 8, 8, 8, 8, 8])
        #expect(packed.count == values.count)
    }

    /// Values appended together read back as when appended one by one, whichever of them needs a wider width,
    /// and after values appended before them at a narrower one.
    @Test func valuesAppendedTogetherReadBackAsOneByOne() {
        let batches: [[Int64]] = [[1, -2, 3], [], [127, 300, -5], [1 << 20, 7], [.min, 0, .max], [4]]
        var together = PackedIntegers()
        var one = PackedIntegers()
        for batch in batches {
            batch.withUnsafeBufferPointer { together.append(contentsOf: $0) }
            for value in batch { one.append(value) }
            #expect(together == one)
            #expect(together.width == one.width)
        }
        #expect((0..<together.count).map { together[$0] } == batches.flatMap { $0 })
        var column = IntegerColumn()
        column.append(contentsOf: [1, nil, -300])
        column.append(contentsOf: Array(repeating: nil, count: 70) + [5])
        #expect(column.count == 74)
        #expect(Array(column) == [1, nil, -300] + Array(repeating: nil, count: 70) + [5])
    }

    @Test func smallValuesTakeOneByteAndEqualityIgnoresWidth() {
        var narrow = PackedIntegers()
        var wide = PackedIntegers()
        wide.append(1 << 40)
        wide = PackedIntegers()  // starts over at one byte
        for v: Int64 in [5, -3, 100] {
            narrow.append(v)
            wide.append(v)
        }
        #expect(narrow.width == 1 && wide.width == 1)
        #expect(narrow == wide)
        var widened = PackedIntegers()
        widened.append(70_000)
        var same = PackedIntegers(repeating: 70_000, count: 1)
        #expect(widened == same && widened.width == 4)
        same.append(1)
        #expect(widened != same)
        #expect(PackedIntegers(repeating: -1, count: 300).width == 1)
    }

    @Test func stringCodesPackAndKeepNulls() {
        var column = StringColumn()
        var expected: [String?] = []
        for row in 0..<400 {
            // 300 distinct values: the codes outgrow one byte.
            let value: String? = row % 9 == 0 ? nil : "v\(row % 300)"
            column.append(value)
            expected.append(value)
        }
        #expect((0..<400).map { column[$0] } == expected)
        #expect(column.codes[0] == StringColumn.nullCode)
        #expect(column.code(of: "v299") == column.codes[299])
    }

    /// Values are compared one by one while a column has at most `StringDictionary.scanLimit` of them and hashed
    /// after: on both sides of the limit every value is found where it was first added, whichever came before it.
    @Test func valuesAreFoundWhereTheyWereAddedOnBothSidesOfTheScanLimit() {
        let limit = StringDictionary.scanLimit
        for distinct in [1, 2, limit, limit + 1, 40] {
            var column = StringColumn()
            var expected: [String?] = []
            for row in 0..<(distinct * 3) {
                let value: String? = row % 5 == 4 ? nil : "model-\((row * 7) % distinct)"
                column.append(value)
                expected.append(value)
            }
            #expect((0..<expected.count).map { column[$0] } == expected)
            #expect(Set(column.dictionary).count == column.dictionary.count)
            for (position, value) in column.dictionary.enumerated() {
                #expect(column.code(of: value) == UInt32(position))
            }
            #expect(column.code(of: "model-\(distinct)") == nil)
        }
        // A decoded dictionary that holds a value twice (only a damaged frame would): its first place is found.
        for size in [3, limit + 3] {
            let values = (0..<size).map { $0 == size - 1 ? "a" : "v\($0)" }
            let column = StringColumn(dictionary: ["a"] + values, codes: .init(repeating: 0, count: 1))
            #expect(column.code(of: "a") == 0)
            #expect(column.code(of: "v1") == 2)
        }
    }
}

@Suite("Sealed rows")
struct SealedRowsTests {
    /// The rows the writer hands the catalog at a seal are the rows a reader of the sealed columns frame finds:
    /// the same offsets in the same order and the same summary (so a seal need not read the frame back).
    @Test func writerColumnsGiveWhatTheSealedFrameGives() throws {
        var factory = RecordFactory(seed: 11)
        var builder = ColumnBuilder(segment: 7)
        for i in 0..<500 {
            var record = factory.record()
            record.account = i % 3 == 0 ? "team-b" : "default"
            record.logged = i % 4 != 0  // usage records count in the rows, not in the summary's logs
            record.model = i % 50 == 0 ? nil : record.model
            builder.append(record, at: RecordLocation(segment: 7, offset: UInt64(16 + i * 300), length: 280))
        }
        let fromWriter = SealedRows(builder)
        let fromFrame = SealedRows(try builder.block())
        #expect(fromWriter == fromFrame)
        #expect(fromWriter.count == 500)
        let summary = try #require(fromWriter.summary)
        #expect(summary.logs == 375)
        #expect(summary.accounts == ["default", "team-b"])
        #expect(SealedRows(ColumnBuilder(segment: 8)).summary == nil)
    }
}
