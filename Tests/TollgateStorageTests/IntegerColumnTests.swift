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
