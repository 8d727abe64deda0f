import NIOCore
import NIOHTTP1
import TollgateModel

/// A response part as `ResponseDecoder` hands it on: NIOHTTP1's `HTTPClientResponsePart`, with the head's fields
/// kept as the bytes they came in (`UpstreamResponseHead`).
enum UpstreamResponsePart {
    case head(UpstreamResponseHead)
    case body(ByteBuffer)
    case end(HTTPHeaders?)
}

/// An upstream's response head: its version and status, and its header fields as the lines they came in. The proxy
/// reads the few fields it acts on from their bytes and forwards the lines as they are. For an exchange that records
/// its headers the decoder packs the fields' bytes as it reads the head (`recorded`); a field becomes a `String` only
/// when asked (`headers`, `strings`).
///
/// A class, as NIOHTTP1's head keeps its storage: a part holding it passes through the pipeline without being boxed,
/// and the record takes `recorded` from it (`takeRecorded()`) rather than sharing and then copying it.
final class UpstreamResponseHead {
    let version: HTTPVersion
    let status: HTTPResponseStatus
    let fields: FieldLines
    /// The fields packed, in order, when the exchange the response answers records its headers.
    private(set) var recorded: HeaderList?

    init(version: HTTPVersion, status: HTTPResponseStatus, fields: FieldLines, recorded: HeaderList?) {
        self.version = version
        self.status = status
        self.fields = fields
        self.recorded = recorded
    }

    /// `recorded`, handed over: the head keeps no copy of it, so whoever takes it may add to it in place.
    func takeRecorded() -> HeaderList? {
        defer { recorded = nil }
        return recorded
    }

    /// The fields as strings, in order: `recorded`, or made from the bytes.
    var strings: [(name: String, value: String)] { recorded?.pairs ?? fields.strings() }

    /// The fields packed: `recorded`, or packed from the bytes now.
    var packed: HeaderList { recorded ?? fields.packed() }

    /// The fields as `HTTPHeaders`, made now.
    var headers: HTTPHeaders { HTTPHeaders(strings.map { ($0.name, $0.value) }) }

    /// NIOHTTP1's response head with the same version, status and fields.
    var nioHead: HTTPResponseHead { HTTPResponseHead(version: version, status: status, headers: headers) }
}

/// Header fields kept as the bytes of their lines (`name:`, the value, CRLF each), with where each name and value
/// is: read without a `String` per field, and written on as they came.
struct FieldLines {
    /// Where a field's name and value are in `bytes` (the value without its leading whitespace).
    struct Span {
        var nameStart: Int32
        var nameEnd: Int32
        var valueStart: Int32
        var valueEnd: Int32
    }

    /// The field lines, from the first one's first byte to the last one's CRLF.
    let bytes: ByteBuffer
    let spans: [Span]
    /// Every line is exactly the name, a colon, one space, the value and CRLF: `bytes` are what writing each field
    /// that way (`write(to:)`) gives.
    let canonical: Bool

    init(bytes: ByteBuffer, spans: [Span], canonical: Bool) {
        self.bytes = bytes
        self.spans = spans
        self.canonical = canonical
    }

    var count: Int { spans.count }

    /// Calls `body` with each field's name and value bytes, in order.
    @inline(__always)
    func forEach(_ body: (_ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>) -> Void) {
        bytes.withUnsafeReadableBytes { raw in
            let all = raw.bindMemory(to: UInt8.self)
            for span in spans {
                body(
                    UnsafeBufferPointer(rebasing: all[Int(span.nameStart)..<Int(span.nameEnd)]),
                    UnsafeBufferPointer(rebasing: all[Int(span.valueStart)..<Int(span.valueEnd)]))
            }
        }
    }

    /// The value of the first field named `name` (a lowercase literal; names compare without ASCII case).
    func first(_ name: StaticString) -> String? {
        var found: String?
        forEach { fieldName, value in
            if found == nil && ProxyHeaders.equalsLowercase(fieldName, name) {
                found = String(decoding: value, as: UTF8.self)
            }
        }
        return found
    }

    /// The fields packed as they came, in order, with room after them for the gateway's own.
    func packed() -> HeaderList {
        var bound = 256
        for span in spans {
            bound += HeaderList.bound(Int(span.nameEnd - span.nameStart), Int(span.valueEnd - span.valueStart))
        }
        return HeaderList.packing(bound: bound) { packer in
            forEach { name, value in packer.append(name: name, value: value) }
        }
    }

    /// The `content-type` and `content-encoding` fields packed: all that a record keeping no headers reads of them
    /// (whether the response was a stream, whether its body was encoded). `last` is the list given last time, given
    /// again (shared, not made) when the fields are the same; an upstream answers alike each time.
    func packedContentHeaders(reusing last: inout HeaderList) -> HeaderList {
        func isContentHeader(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
            (name.count == 12 && ProxyHeaders.equalsLowercase(name, "content-type"))
                || (name.count == 16 && ProxyHeaders.equalsLowercase(name, "content-encoding"))
        }
        var bound = 0
        forEach { name, value in
            if isContentHeader(name) { bound += HeaderList.bound(name.count, value.count) }
        }
        guard bound > 0 else { return HeaderList() }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bound) { buffer in
            var packer = HeaderList.Packer(buffer)
            forEach { name, value in
                if isContentHeader(name) { packer.append(name: name, value: value) }
            }
            if !packer.packed(last) { last = packer.list() }
            return last
        }
    }

    /// The fields as strings, in order.
    func strings() -> [(name: String, value: String)] {
        var strings: [(name: String, value: String)] = []
        strings.reserveCapacity(spans.count)
        forEach { name, value in
            strings.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        return strings
    }

    /// Writes each field as its name, `: `, its value and CRLF: the bytes as they came when they are already so.
    func write(to out: inout WireCursor) {
        bytes.withUnsafeReadableBytes { raw in
            guard let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            if canonical {
                out.append(UnsafeBufferPointer(start: base, count: raw.count))
                return
            }
            for span in spans {
                out.append(
                    UnsafeBufferPointer(start: base + Int(span.nameStart), count: Int(span.nameEnd - span.nameStart)))
                out.append(": " as StaticString)
                out.append(
                    UnsafeBufferPointer(
                        start: base + Int(span.valueStart), count: Int(span.valueEnd - span.valueStart)))
                out.append("\r\n" as StaticString)
            }
        }
    }
}
