import NIOCore
import NIOHTTP1
import TollgateModel

/// Encodes the request parts an upstream connection sends, as NIOHTTP1's `HTTPRequestEncoder` does (the same framing
/// rules and bytes), into one buffer for all that is written between two flushes: a request's head, body and end
/// usually leave in one write. The head is measured first and copied in one pass, not written header by header.
struct RequestEncoder {
    /// Body parts larger than this are not copied: they go out as they are.
    static let copyLimit = 16 * 1024

    /// What was encoded since the last `take()`.
    private var pending: ByteBuffer?
    /// The request's body is sent chunked.
    private var chunked = false

    /// The encoded bytes so far, if any; the encoder starts a new buffer after this.
    mutating func take() -> ByteBuffer? {
        defer { pending = nil }
        return pending
    }

    /// Encodes `part` after what is pending. A large body part is not copied: it is returned, with the bytes to write
    /// before it (the pending ones, ending with its chunk header); its chunk trailer starts the next pending bytes.
    mutating func encode(
        _ part: HTTPClientRequestPart, allocator: ByteBufferAllocator
    ) -> (before: ByteBuffer?, part: IOData)? {
        switch part {
        case .head(var head):
            var size = 0
            chunked = Self.frame(&head, size: &size)
            if pending == nil { pending = allocator.buffer(capacity: size + 1024) }
            Self.writeHead(head, size: size, into: &pending!)
            return nil
        case .body(let data):
            let count = data.readableBytes
            // NIOHTTP1 does not frame an empty part (it would end a chunked body); nothing to write then.
            if count == 0 { return nil }
            let copies: Bool
            if count <= Self.copyLimit, case .byteBuffer = data { copies = true } else { copies = false }
            if chunked {
                if pending == nil { pending = allocator.buffer(capacity: copies ? count + 32 : 32) }
                pending!.writeString(String(count, radix: 16))
                pending!.writeStaticString("\r\n")
            }
            if copies, case .byteBuffer(let bytes) = data {
                if pending == nil { pending = allocator.buffer(capacity: count) }
                pending!.writeImmutableBuffer(bytes)
                if chunked { pending!.writeStaticString("\r\n") }
                return nil
            }
            let before = pending
            pending = nil
            if chunked {
                pending = allocator.buffer(capacity: 64)
                pending!.writeStaticString("\r\n")
            }
            return (before, data)
        case .end(let trailers):
            guard chunked else { return nil }
            if pending == nil { pending = allocator.buffer(capacity: trailers == nil ? 5 : 256) }
            pending!.writeStaticString("0\r\n")
            if let trailers {
                for (name, value) in trailers {
                    pending!.writeString(name)
                    pending!.writeStaticString(": ")
                    pending!.writeString(value)
                    pending!.writeStaticString("\r\n")
                }
            }
            pending!.writeStaticString("\r\n")
            return nil
        }
    }

    /// Sets the framing headers as NIOHTTP1's encoder does (`automaticallySetFramingHeaders`); true when the body
    /// goes chunked. A method that has no body loses both framing headers; one that has a body keeps its content
    /// length (a transfer encoding beside it goes) or, without one, is sent chunked over HTTP/1.1; any other keeps
    /// its content length, or is chunked when it says so.
    ///
    /// `size` is set to the encoded size of the head as framed (`headSize`), measured in the same pass over the
    /// headers when framing leaves them as they are.
    static func frame(_ head: inout HTTPRequestHead, size: inout Int) -> Bool {
        var hasLength = false
        var hasEncoding = false
        var fields = 0
        for (name, value) in head.headers {
            fields += name.utf8.count + 2 + value.utf8.count + 2
            if ProxyHeaders.nameEquals(name, "content-length") {
                hasLength = true
            } else if ProxyHeaders.nameEquals(name, "transfer-encoding") {
                hasEncoding = true
            }
        }
        let chunked = frameChanging(&head, hasLength: hasLength, hasEncoding: hasEncoding)
        size = chunked.changed ? headSize(head) : lineSize(head) + fields + 2
        return chunked.chunked
    }

    /// What `frame` does with the framing headers found: whether the body goes chunked, and whether the headers
    /// changed.
    private static func frameChanging(
        _ head: inout HTTPRequestHead, hasLength: Bool, hasEncoding: Bool
    ) -> (chunked: Bool, changed: Bool) {
        let http11 = head.version.major == 1 && head.version.minor >= 1
        switch head.method {
        case .TRACE:
            if hasLength { head.headers.remove(name: "content-length") }
            if hasEncoding { head.headers.remove(name: "transfer-encoding") }
            return (false, hasLength || hasEncoding)
        case .POST, .PUT, .PATCH:
            if hasLength {
                if hasEncoding { head.headers.remove(name: "transfer-encoding") }
                return (false, hasEncoding)
            }
            guard http11 else { return (false, false) }
            head.headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            return (true, true)
        default:
            if hasLength {
                if hasEncoding { head.headers.remove(name: "transfer-encoding") }
                return (false, hasEncoding)
            }
            return (http11 && hasEncoding && head.headers["transfer-encoding"].first == "chunked", false)
        }
    }

    /// The encoded size of `head`: request line, headers, blank line.
    static func headSize(_ head: HTTPRequestHead) -> Int {
        var size = lineSize(head)
        for (name, value) in head.headers { size += name.utf8.count + 2 + value.utf8.count + 2 }
        return size + 2
    }

    /// The encoded size of `head`'s request line.
    private static func lineSize(_ head: HTTPRequestHead) -> Int {
        var size = head.method.rawValue.utf8.count + 1 + head.uri.utf8.count + 1 + 8 + 2
        if !(head.version.major == 1 && head.version.minor <= 1) { size += 40 }
        return size
    }

    /// Writes `head` (`size` bytes, from `headSize`) in one pass.
    static func writeHead(_ head: HTTPRequestHead, size: Int, into buffer: inout ByteBuffer) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            var out = WireCursor(base: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            out.append(head.method.rawValue)
            out.append(UInt8(ascii: " "))
            out.append(head.uri)
            switch (head.version.major, head.version.minor) {
            case (1, 1): out.append(" HTTP/1.1\r\n" as StaticString)
            case (1, 0): out.append(" HTTP/1.0\r\n" as StaticString)
            default:
                out.append(" HTTP/" as StaticString)
                out.append(String(head.version.major))
                out.append(UInt8(ascii: "."))
                out.append(String(head.version.minor))
                out.append("\r\n" as StaticString)
            }
            out.appendHeaders(head.headers)
            return out.written
        }
    }
}

/// Copies the bytes of an HTTP message head into memory measured beforehand (`RequestEncoder.headSize`,
/// `ResponseEncoder.FieldScan`).
struct WireCursor {
    let base: UnsafeMutablePointer<UInt8>
    private(set) var written = 0

    init(base: UnsafeMutablePointer<UInt8>) {
        self.base = base
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        base[written] = byte
        written += 1
    }

    @inline(__always)
    mutating func append(_ literal: StaticString) {
        let n = literal.utf8CodeUnitCount
        (base + written).update(from: literal.utf8Start, count: n)
        written += n
    }

    @inline(__always)
    mutating func append(_ string: String) {
        var string = string
        string.withUTF8 { bytes in
            if let source = bytes.baseAddress { (base + written).update(from: source, count: bytes.count) }
            written += bytes.count
        }
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        if let source = bytes.baseAddress { (base + written).update(from: source, count: bytes.count) }
        written += bytes.count
    }

    /// The number of decimal digits of `value`.
    static func decimalDigits(_ value: UInt) -> Int {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        return digits
    }

    /// `value` in decimal.
    mutating func appendDecimal(_ value: UInt) {
        let digits = Self.decimalDigits(value)
        var rest = value
        for i in stride(from: digits - 1, through: 0, by: -1) {
            base[written + i] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        written += digits
    }

    /// A log id's hyphenated form.
    @inline(__always)
    mutating func appendLogID(_ id: LogID) {
        id.write(to: base + written)
        written += LogID.textBytes
    }

    /// One header: `name: value` and CRLF.
    @inline(__always)
    mutating func appendField(_ name: String, _ value: String) {
        append(name)
        append(": " as StaticString)
        append(value)
        append("\r\n" as StaticString)
    }

    /// Every header as `name: value` and CRLF, then the blank line.
    mutating func appendHeaders(_ headers: HTTPHeaders) {
        for (name, value) in headers { appendField(name, value) }
        append("\r\n" as StaticString)
    }
}
