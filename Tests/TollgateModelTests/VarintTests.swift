import Testing

@testable import TollgateModel

struct VarintTests {
    private func encoded<V: FixedWidthInteger & UnsignedInteger>(_ value: V) -> [UInt8] {
        var bytes: [UInt8] = []
        Varint.append(value, to: &bytes)
        return bytes
    }

    @Test func valuesAtEveryLengthBoundaryComeBackAndTakeTheBytesSizeSays() {
        var values: [UInt64] = [0, 1, 127, 128, 300, UInt64.max, UInt64.max - 1, 1 << 63]
        for bits in stride(from: 7, to: 64, by: 7) { values += [(1 << UInt64(bits)) - 1, 1 << UInt64(bits)] }
        for value in values {
            let bytes = encoded(value)
            #expect(bytes.count == Varint.size(value), "\(value)")
            var position = 0
            #expect(Varint.read(UInt64.self, from: bytes, at: &position, end: bytes.count) == value)
            #expect(position == bytes.count)

            var fixed = [UInt8](repeating: 0xAA, count: Varint.maxBytes)
            let written = fixed.withUnsafeMutableBufferPointer { Varint.write(value, to: $0.baseAddress!) }
            #expect(Array(fixed[..<written]) == bytes)
        }
        #expect(encoded(UInt64(300)) == [0xAC, 0x02])
        #expect(encoded(UInt64.max).count == 10)
    }

    @Test func zigzagKeepsSmallMagnitudesShortInBothWidths() {
        #expect([0, -1, 1, -2, 2].map { Varint.zigzag(Int64($0)) } == [0, 1, 2, 3, 4])
        for value in [Int64.min, -1, 0, 1, Int64.max] { #expect(Varint.unzigzag(Varint.zigzag(value)) == value) }
        for value in [Int128.min, -1, 0, 1, Int128.max] {
            let bytes = encoded(Varint.zigzag(value))
            var position = 0
            let raw = Varint.read(UInt128.self, from: bytes, at: &position, end: bytes.count)
            #expect(raw.map(Varint.unzigzag) == value)
        }
        #expect(encoded(Varint.zigzag(Int128(-3))) == [5])
    }

    @Test func bytesThatEndInsideAVarintAreRefused() {
        let bytes = encoded(UInt64(1) << 40)
        for cut in 0..<bytes.count {
            var position = 0
            #expect(Varint.read(UInt64.self, from: bytes, at: &position, end: cut) == nil, "cut at \(cut)")
        }
        // `end` bounds the read even when the buffer goes on.
        var position = 0
        #expect(Varint.read(UInt64.self, from: [0x80, 0x01], at: &position, end: 1) == nil)
    }

    @Test func aVarintWiderThanItsTypeIsRefused() {
        // The tenth byte of a 64-bit varint holds one bit.
        let nine = [UInt8](repeating: 0xFF, count: 9)
        var position = 0
        #expect(Varint.read(UInt64.self, from: nine + [0x01], at: &position, end: 10) == UInt64.max)
        position = 0
        #expect(Varint.read(UInt64.self, from: nine + [0x02], at: &position, end: 10) == nil)
        position = 0
        #expect(Varint.read(UInt64.self, from: nine + [0x81, 0x00], at: &position, end: 11) == nil)
        // A UInt32 takes five bytes, the last with four bits.
        let four = [UInt8](repeating: 0xFF, count: 4)
        position = 0
        #expect(Varint.read(UInt32.self, from: four + [0x0F], at: &position, end: 5) == UInt32.max)
        position = 0
        #expect(Varint.read(UInt32.self, from: four + [0x1F], at: &position, end: 5) == nil)
    }
}
