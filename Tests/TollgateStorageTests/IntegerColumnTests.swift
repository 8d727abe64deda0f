import Testing

@testable import TollgateStorage

@Suite("Integer columns")
struct IntegerColumnTests {
    @Test func rowsReadBackAsOptionalsAcrossBitmapWords() {
        var column = IntegerColumn()
        var expected: [Int64?] = []
        for row in 0..<200 {
            let value: Int64? = row % 7 == 0 || (64..<70).contains(row) ? nil : Int64(row) - 100
            column.append(value)
            expected.append(value)
        }
        #expect(Array(column) == expected)
        #expect(column.count == 200)
        // A column without nulls keeps no bitmap, and one that starts with values gets nulls later.
        var late = IntegerColumn()
        for row in 0..<130 { late.append(row == 129 ? nil : 0) }
        #expect(late[128] == 0 && late[129] == nil)
        #expect(Array(IntegerColumn(repeating: nil, count: 70)) == Array(repeating: nil, count: 70))
        #expect(Array(IntegerColumn(repeating: 3, count: 5)) == [3, 3, 3, 3, 3])
    }

    @Test func equalityComparesRowsNotStorage() {
        var a = IntegerColumn()
        var b = IntegerColumn(repeating: nil, count: 3)
        for _ in 0..<3 { a.append(nil) }
        #expect(a == b)
        b = IntegerColumn()
        for v: Int64? in [1, nil, 2] { b.append(v) }
        a = IntegerColumn()
        for v: Int64? in [1, nil, 3] { a.append(v) }
        #expect(a != b)
    }
}

@Suite("Block rows of sealed segments")
struct SegmentBlockRowsTests {
    @Test func rowsFollowFromVersion2LocationsAndRoundTrip() throws {
        // Blocks at 16, 900 and 5000 holding 3, 1 and 2 records.
        let offsets: [UInt64] = [16 << 16, 16 << 16 | 1, 16 << 16 | 2, 900 << 16, 5000 << 16, 5000 << 16 | 1]
        let rows = try #require(SegmentBlockRows(offsets: offsets))
        for (row, offset) in offsets.enumerated() { #expect(rows.row(of: offset) == row) }
        #expect(rows.row(of: 901 << 16) == nil)
        let decoded = try SegmentBlockRows(encoded: rows.encoded(rows: offsets.count))
        #expect(decoded == rows)
        // Version 1 locations (byte offsets of frames) and slots out of order are not block rows.
        #expect(SegmentBlockRows(offsets: [16, 230, 470]) == nil)
        #expect(SegmentBlockRows(offsets: [16 << 16, 16 << 16 | 2]) == nil)
        #expect(SegmentBlockRows(offsets: [900 << 16, 16 << 16]) == nil)
        #expect(throws: SegmentError.self) { try SegmentBlockRows(encoded: [5, 1, 0, 1]) }
    }
}
