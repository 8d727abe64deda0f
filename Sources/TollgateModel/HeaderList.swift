#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Headers held in one buffer: a log's as stored — names lowercased, secrets redacted (`HeaderRedaction`) — and an
/// exchange's response headers as they came (the proxy packs the upstream's fields from their bytes). Each header is
/// packed as the segment format's header message (`Sources/TollgateStorage/Segment/FORMAT.md`, "Record encoding",
/// fields 25 and 26): the message's length (a varint), then field 1 (the name) and field 2 (the value), each a key
/// byte, a length varint and UTF-8 bytes, in the order the headers came.
///
/// The store's thread redacts a logged request's headers into this buffer (`HeaderRedaction.NameMemo`: a response
/// header kept as it came is its message copied), and the segment codec writes each message as it lies
/// (`forEachMessage`): on the way to the disk no `Header` is made. Reading one (iterating: `Header` elements) decodes
/// its bytes. Packing is canonical (shortest varints), so two lists are equal exactly when their bytes are.
public struct HeaderList: Sendable, Hashable, Collection, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// The packed headers.
    public private(set) var bytes: [UInt8] = []
    /// How many headers `bytes` holds.
    public private(set) var count = 0

    /// The header message's fields (FORMAT.md, "Record encoding"): the format's one declaration of them, which the
    /// segment codec's decoder reads too (`RecordCodec.HeaderField`).
    public static let nameField: UInt64 = 1
    public static let valueField: UInt64 = 2
    /// Their keys: each length-delimited (wire type 2).
    @inline(__always) static var nameKey: UInt8 { UInt8(nameField << 3 | 2) }
    @inline(__always) static var valueKey: UInt8 { UInt8(valueField << 3 | 2) }

    public init() {}

    public init(_ headers: some Sequence<Header>) {
        for header in headers { append(header) }
    }

    public init(arrayLiteral headers: Header...) {
        self.init(headers)
    }

    public init(pairs: [(name: String, value: String)]) {
        var bound = 0
        for pair in pairs { bound += Self.bound(pair.name.utf8.count, pair.value.utf8.count) }
        self = Self.packing(bound: bound) { packer in
            for pair in pairs { packer.append(name: pair.name, value: pair.value) }
        }
    }

    /// The headers as name and value strings, in order.
    public var pairs: [(name: String, value: String)] { map { ($0.name, $0.value) } }

    /// Calls `body` with each header's message (as `forEachMessage` gives it), name and value.
    public func forEachHeader(
        _ body: (
            _ message: UnsafeBufferPointer<UInt8>, _ name: UnsafeBufferPointer<UInt8>,
            _ value: UnsafeBufferPointer<UInt8>
        ) -> Void
    ) {
        bytes.withUnsafeBufferPointer { all in
            var at = 0
            for _ in 0..<count {
                let header = Self.header(in: all, at: at)
                body(
                    UnsafeBufferPointer(rebasing: all[at..<header.end]),
                    UnsafeBufferPointer(rebasing: all[header.name]),
                    UnsafeBufferPointer(rebasing: all[header.value]))
                at = header.end
            }
        }
    }

    /// The header message at `at` of the list's own bytes (well formed: a packer wrote them): where it ends, and where
    /// its name's and value's bytes are.
    static func header(in bytes: UnsafeBufferPointer<UInt8>, at: Int) -> (end: Int, name: Range<Int>, value: Range<Int>)
    {
        var position = at
        let end = length(in: bytes, at: &position) + position
        position += 1  // the name's key
        let nameLength = length(in: bytes, at: &position)
        let name = position..<(position + nameLength)
        position = name.upperBound + 1  // the value's key
        let valueLength = length(in: bytes, at: &position)
        return (end, name, position..<(position + valueLength))
    }

    /// The length varint at `position`, which moves past it.
    @inlinable
    static func length(in bytes: UnsafeBufferPointer<UInt8>, at position: inout Int) -> Int {
        Int(Varint.read(UInt.self, from: bytes, at: &position, end: bytes.count)!)
    }

    public mutating func append(_ header: Header) {
        var name = header.name
        var value = header.value
        name.withUTF8 { name in
            value.withUTF8 { value in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.bound(name.count, value.count)) {
                    var packer = Packer($0)
                    packer.append(name: name, value: value)
                    bytes.append(contentsOf: packer.packed(from: 0))
                }
            }
        }
        count += 1
    }

    /// Calls `body` with each header's message as it lies in `bytes`, its length varint first. Inlined into the
    /// caller (the segment codec calls it for every logged request's headers).
    @inlinable
    public func forEachMessage(_ body: (_ message: UnsafeRawBufferPointer) -> Void) {
        bytes.withUnsafeBufferPointer { all in
            var at = 0
            for _ in 0..<count {
                var position = at
                let end = Self.length(in: all, at: &position) + position
                body(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: all[at..<end])))
                at = end
            }
        }
    }

    /// The most bytes a header of a name and value of these lengths takes packed.
    public static func bound(_ name: Int, _ value: Int) -> Int {
        name + value + 2 + 3 * Varint.maxBytes
    }

    /// Packs headers into memory sized first by an upper bound (`bound` summed), so nothing grows on the way.
    public struct Packer {
        private let base: UnsafeMutablePointer<UInt8>
        private let capacity: Int
        public private(set) var count = 0
        private(set) var headers = 0

        public init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
            base = buffer.baseAddress!
            capacity = buffer.count
        }

        public mutating func append(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
            precondition(
                capacity - count >= HeaderList.bound(name.count, value.count), "headers passed their size bound")
            let length =
                2 + Varint.size(UInt64(name.count)) + name.count + Varint.size(UInt64(value.count)) + value.count
            count += Varint.write(UInt64(length), to: base + count)
            put(HeaderList.nameKey, name)
            put(HeaderList.valueKey, value)
            headers += 1
        }

        public mutating func append(name: String, value: String) {
            var name = name
            var value = value
            name.withUTF8 { name in value.withUTF8 { value in append(name: name, value: value) } }
        }

        /// Appends a header message packed before (`message` as `forEachMessage` gives it).
        public mutating func append(message: UnsafeBufferPointer<UInt8>) {
            precondition(capacity - count >= message.count, "headers passed their size bound")
            if let source = message.baseAddress { (base + count).update(from: source, count: message.count) }
            count += message.count
            headers += 1
        }

        /// The bytes packed since `start`.
        func packed(from start: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(start: base + start, count: count - start)
        }

        /// What it packed, as a list of its own.
        public func list() -> HeaderList {
            let packed = packed(from: 0)
            return HeaderList.packing(bound: packed.count) { $0.append(packed: packed, headers: headers) }
        }

        /// Whether `list` holds exactly what it packed.
        public func packed(_ list: HeaderList) -> Bool {
            list.count == headers && list.bytes.count == count
                && list.bytes.withUnsafeBufferPointer { memcmp($0.baseAddress!, base, count) == 0 }
        }

        private mutating func append(packed: UnsafeBufferPointer<UInt8>, headers: Int) {
            if let source = packed.baseAddress, packed.count > 0 {
                (base + count).update(from: source, count: packed.count)
            }
            count += packed.count
            self.headers += headers
        }

        private mutating func put(_ key: UInt8, _ text: UnsafeBufferPointer<UInt8>) {
            base[count] = key
            count += 1
            count += Varint.write(UInt64(text.count), to: base + count)
            if let source = text.baseAddress, text.count > 0 { (base + count).update(from: source, count: text.count) }
            count += text.count
        }
    }

    /// Packs headers with `body` into at most `bound` bytes (more is room to append to).
    public static func packing(bound: Int, _ body: (inout Packer) -> Void) -> HeaderList {
        var list = HeaderList()
        list.bytes = [UInt8](unsafeUninitializedCapacity: bound) { buffer, initialized in
            var packer = Packer(buffer)
            body(&packer)
            initialized = packer.count
            list.count = packer.headers
        }
        return list
    }

    // MARK: Collection

    /// A header's position: the offset of its message in `bytes`.
    public struct Index: Comparable, Hashable, Sendable {
        fileprivate let offset: Int
        public static func < (a: Index, b: Index) -> Bool { a.offset < b.offset }
    }

    public var startIndex: Index { Index(offset: 0) }
    public var endIndex: Index { Index(offset: bytes.count) }
    public var isEmpty: Bool { count == 0 }

    public func index(after i: Index) -> Index {
        bytes.withUnsafeBufferPointer { all in
            var position = i.offset
            return Index(offset: Self.length(in: all, at: &position) + position)
        }
    }

    public subscript(position: Index) -> Header {
        bytes.withUnsafeBufferPointer { all in
            let header = Self.header(in: all, at: position.offset)
            return Header(
                String(decoding: UnsafeBufferPointer(rebasing: all[header.name]), as: UTF8.self),
                String(decoding: UnsafeBufferPointer(rebasing: all[header.value]), as: UTF8.self))
        }
    }

    public var description: String {
        "[" + map { "\($0.name): \($0.value)" }.joined(separator: ", ") + "]"
    }
}
