import Testing

@testable import TollgateModel

/// The packed list a log keeps its headers in: what goes in comes out, in order, each header packed as the segment
/// format's header message (length, then the name and the value as fields 1 and 2).
struct HeaderListTests {
    static let headers = [
        Header("content-type", "application/json"), Header("empty", ""), Header("x-emoji", "👍🏽 ok"),
        Header("x-long", String(repeating: "v", count: 300)), Header(String(repeating: "n", count: 200), "short"),
        Header("content-type", "text/plain"),
    ]

    @Test func headersComeBackInOrderWithTheirCount() {
        let list = HeaderList(Self.headers)
        #expect(Array(list) == Self.headers)
        #expect(list.count == Self.headers.count && !list.isEmpty)
        #expect(HeaderList().isEmpty && Array(HeaderList()).isEmpty)
        let packed = HeaderList.packing(bound: 4_096) { packer in
            for header in Self.headers { packer.append(name: header.name, value: header.value) }
        }
        #expect(packed == list && packed.hashValue == list.hashValue)
        #expect(HeaderList(Self.headers.dropLast()) != list)
        let literal: HeaderList = [Header("a", "1"), Header("b", "2")]
        #expect(literal.map(\.name) == ["a", "b"] && literal.description == "[a: 1, b: 2]")
    }

    @Test func eachHeaderIsTheFormatsHeaderMessage() {
        let list = HeaderList(Self.headers)
        var messages: [[UInt8]] = []
        list.forEachMessage { messages.append(Array($0)) }
        #expect(messages.count == Self.headers.count)
        for (message, header) in zip(messages, Self.headers) {
            var body: [UInt8] = [0x0A]
            Varint.append(UInt64(header.name.utf8.count), to: &body)
            body += Array(header.name.utf8) + [0x12]
            Varint.append(UInt64(header.value.utf8.count), to: &body)
            body += Array(header.value.utf8)
            var expected: [UInt8] = []
            Varint.append(UInt64(body.count), to: &expected)
            #expect(message == expected + body)
        }
        #expect(messages.reduce(0) { $0 + $1.count } == list.bytes.count)
    }

    @Test func headersAreReadOnTheirBytes() {
        let list = HeaderList(pairs: Self.headers.map { ($0.name, $0.value) })
        #expect(list == HeaderList(Self.headers) && list.pairs.map(\.name) == Self.headers.map(\.name))
        var seen: [Header] = []
        var messages: [[UInt8]] = []
        list.forEachHeader { message, name, value in
            seen.append(Header(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
            messages.append(Array(message))
        }
        var expected: [[UInt8]] = []
        list.forEachMessage { expected.append(Array($0)) }
        #expect(seen == Self.headers && messages == expected)
    }

    @Test func aPackerTellsWhetherAListHoldsWhatItPacked() {
        let two: HeaderList = [Header("content-type", "application/json"), Header("content-encoding", "gzip")]
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { buffer in
            var packer = HeaderList.Packer(buffer)
            for header in two { packer.append(name: header.name, value: header.value) }
            #expect(packer.list() == two && packer.packed(two))
            #expect(!packer.packed([Header("content-type", "application/json")]))
            #expect(!packer.packed([Header("content-type", "application/json"), Header("content-encoding", "gzip2")]))
            #expect(!packer.packed(HeaderList()))
        }
    }
}
