import NIOCore
import NIOHTTP1
import TollgateModel

/// Encodes the response parts written to a client connection — the proxy's and Hummingbird's — as NIOHTTP1's
/// `HTTPResponseEncoder` in the server pipeline does (the same framing rules and bytes), with the head measured
/// first and copied in one pass instead of written header by header.
///
/// The server pipeline's encoder learns each request's method from the request decoder; here `ProxyHandler` says
/// it (`requestStarted`) when it hands a request head on, to the proxy or to Hummingbird. The response to a `HEAD`
/// or `CONNECT` request carries no body: its body parts are refused and its end writes nothing, while its head keeps
/// the framing headers an equivalent `GET` would have had (a `CONNECT` response loses them).
struct ResponseEncoder {
    /// A chunk of a chunked body up to this size is copied beside its framing into one buffer; a larger one goes out
    /// as it is, between its chunk header and trailer.
    static let copyLimit = 16 * 1024
    /// Room left after a head for a small body to follow it in the same buffer (`ProxyHandler.writeResponse`).
    static let bodyRoom = 1024

    /// The method of the request awaiting its response head, if any.
    private var method: HTTPMethod?
    /// The body of the response being written is sent chunked.
    private var chunked = false
    /// The response being written answers a `HEAD` or `CONNECT` request: no body goes out.
    private var suppressesBody = false

    /// What to write for one part.
    enum Output {
        /// Nothing (an end without chunked framing): a promise is kept in order with an empty write.
        case nothing
        case bytes(IOData)
        /// A large chunk of a chunked body: its chunk header, the part as it is, its trailing CRLF.
        case chunk(header: ByteBuffer, part: IOData, trailer: ByteBuffer)
        /// A body part for a response that cannot have one: nothing is written and the write fails, as with
        /// NIOHTTP1's encoder (`NIOHTTPResponseEncoderError.responseBodyNotAllowed`).
        case refused
    }

    /// A request head was handed on: the next final response head answers it.
    mutating func requestStarted(method: HTTPMethod) {
        self.method = method
    }

    mutating func encode(_ part: HTTPServerResponsePart, allocator: ByteBufferAllocator) -> Output {
        switch part {
        case .head(var head):
            let hasBody = answer(head.status)
            var fields = FieldScan()
            for (name, value) in head.headers { fields.add(name, value) }
            if fields.needsFraming(hasBody: hasBody, version: head.version) {
                _ = Self.frame(&head, hasBody: hasBody)
                fields = FieldScan()
                for (name, value) in head.headers { fields.add(name, value) }
            }
            chunked = !suppressesBody && fields.chunked(hasBody: hasBody, version: head.version)
            let size = Self.statusLineSize(head.version, head.status) + fields.size + 2
            var buffer = allocator.buffer(capacity: size + Self.bodyRoom)
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
                var out = WireCursor(base: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
                Self.appendStatusLine(head.version, head.status, to: &out)
                out.appendHeaders(head.headers)
                return out.written
            }
            return .bytes(.byteBuffer(buffer))
        case .body(let data):
            if suppressesBody { return .refused }
            let count = data.readableBytes
            // An empty part is not framed (it would end a chunked body).
            guard chunked && count > 0 else { return .bytes(data) }
            if count <= Self.copyLimit, case .byteBuffer(let bytes) = data {
                var buffer = allocator.buffer(capacity: count + 20)
                Self.writeChunkHeader(count, into: &buffer)
                buffer.writeImmutableBuffer(bytes)
                buffer.writeStaticString("\r\n")
                return .bytes(.byteBuffer(buffer))
            }
            var header = allocator.buffer(capacity: 20)
            Self.writeChunkHeader(count, into: &header)
            var trailer = allocator.buffer(capacity: 2)
            trailer.writeStaticString("\r\n")
            return .chunk(header: header, part: data, trailer: trailer)
        case .end(let trailers):
            suppressesBody = false
            guard chunked else { return .nothing }
            chunked = false
            guard let trailers else {
                var buffer = allocator.buffer(capacity: 5)
                buffer.writeStaticString("0\r\n\r\n")
                return .bytes(.byteBuffer(buffer))
            }
            var size = 3
            for (name, value) in trailers { size += name.utf8.count + 2 + value.utf8.count + 2 }
            size += 2
            var buffer = allocator.buffer(capacity: size)
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
                var out = WireCursor(base: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
                out.append("0\r\n" as StaticString)
                out.appendHeaders(trailers)
                return out.written
            }
            return .bytes(.byteBuffer(buffer))
        }
    }

    /// Encodes a response head whose headers are `fields` (written as they came, `FieldLines.write(to:)`), then
    /// `cf-aig-log-id` when a `logID` is given (its bytes written in place, no `String`), then `extra`, then a
    /// `connection` header when one is given: the bytes of `encode(.head(…))` with those headers, without making
    /// them `HTTPHeaders` first (the proxy's heads: the upstream's fields, then the gateway's own).
    mutating func encodeHead(
        version: HTTPVersion, status: HTTPResponseStatus, fields: FieldLines, logID: LogID? = nil,
        extra: ArraySlice<(name: String, value: String)>, connection: StaticString?, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var scan = FieldScan()
        fields.forEach { name, value in scan.add(name, valueCount: value.count) }
        if logID != nil { scan.size += GatewayHeader.logID.literal.utf8CodeUnitCount + 2 + LogID.textBytes + 2 }
        for (name, value) in extra { scan.add(name, value) }
        if let connection { scan.size += 10 + 2 + connection.utf8CodeUnitCount + 2 }
        // Framing headers to set or drop (rare for a proxied response: it has a content length or was chunked):
        // the general path.
        if scan.needsFraming(hasBody: peekHasBody(status), version: version) {
            var headers = HTTPHeaders()
            headers.reserveCapacity(fields.count + extra.count + 1)
            for (name, value) in fields.strings() { headers.add(name: name, value: value) }
            if let logID { headers.add(name: GatewayHeader.logID.name, value: logID.description) }
            for (name, value) in extra { headers.add(name: name, value: value) }
            if let connection { headers.add(name: "connection", value: "\(connection)") }
            guard
                case .bytes(.byteBuffer(let buffer)) = encode(
                    .head(HTTPResponseHead(version: version, status: status, headers: headers)), allocator: allocator)
            else { preconditionFailure("a head encodes to bytes") }
            return buffer
        }
        _ = answer(status)
        // Framing left as it is: a content length, or no body, or no framing over HTTP/1.0; never chunked.
        chunked = false
        let size = Self.statusLineSize(version, status) + scan.size + 2
        var buffer = allocator.buffer(capacity: size + Self.bodyRoom)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            var out = WireCursor(base: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            Self.appendStatusLine(version, status, to: &out)
            fields.write(to: &out)
            if let logID {
                out.append(GatewayHeader.logID.literal)
                out.append(": " as StaticString)
                out.appendLogID(logID)
                out.append("\r\n" as StaticString)
            }
            for (name, value) in extra { out.appendField(name, value) }
            if let connection {
                out.append("connection: " as StaticString)
                out.append(connection)
                out.append("\r\n" as StaticString)
            }
            out.append("\r\n" as StaticString)
            return out.written
        }
        return buffer
    }

    /// Whether the final head with `status` may have a body, given the method it would answer (not consumed).
    private func peekHasBody(_ status: HTTPResponseStatus) -> Bool {
        if Self.isInterim(status.code) { return status.mayHaveResponseBody }
        return method?.isCONNECT != true && status.mayHaveResponseBody
    }

    /// A non-final informational status (1xx but 101): another head follows, and it answers no request yet.
    private static func isInterim(_ code: UInt) -> Bool {
        (100..<200).contains(code) && code != 101
    }

    /// Consumes the method a final head answers; whether the response may have a body (a `CONNECT` response does
    /// not, whatever its status).
    private mutating func answer(_ status: HTTPResponseStatus) -> Bool {
        var connect = false
        if !Self.isInterim(status.code), let method {
            self.method = nil
            suppressesBody = method.isHEAD || method.isCONNECT
            connect = method.isCONNECT
        }
        return !connect && status.mayHaveResponseBody
    }

    /// One pass over a head's fields: their encoded size and the framing headers among them.
    struct FieldScan {
        var size = 0
        var hasLength = false
        var hasEncoding = false

        @inline(__always)
        mutating func add(_ name: String, _ value: String) {
            let valueCount = value.utf8.count
            ProxyHeaders.withBytes(name) { add($0, valueCount: valueCount) }
        }

        /// The same for a field read as bytes.
        @inline(__always)
        mutating func add(_ name: UnsafeBufferPointer<UInt8>, valueCount: Int) {
            size += name.count + 2 + valueCount + 2
            switch name.count {
            case 14: if !hasLength && ProxyHeaders.equalsLowercase(name, "content-length") { hasLength = true }
            case 17: if !hasEncoding && ProxyHeaders.equalsLowercase(name, "transfer-encoding") { hasEncoding = true }
            default: break
            }
        }

        /// Whether `frame` would change the headers.
        func needsFraming(hasBody: Bool, version: HTTPVersion) -> Bool {
            guard hasBody else { return hasLength || hasEncoding }
            if hasLength { return hasEncoding }
            return version.major == 1 && version.minor >= 1
        }

        /// Whether the body goes chunked, once framed.
        func chunked(hasBody: Bool, version: HTTPVersion) -> Bool {
            hasBody && !hasLength && version.major == 1 && version.minor >= 1
        }
    }

    /// Sets the framing headers as NIOHTTP1's response encoder does (`automaticallySetFramingHeaders`); true when
    /// the body goes chunked. A response without a body loses both framing headers; one with a body keeps its
    /// content length (a transfer encoding beside it goes) or, without one, is sent chunked over HTTP/1.1.
    static func frame(_ head: inout HTTPResponseHead, hasBody: Bool) -> Bool {
        var scan = FieldScan()
        for (name, value) in head.headers { scan.add(name, value) }
        guard hasBody else {
            if scan.hasLength { head.headers.remove(name: "content-length") }
            if scan.hasEncoding { head.headers.remove(name: "transfer-encoding") }
            return false
        }
        if scan.hasLength {
            if scan.hasEncoding { head.headers.remove(name: "transfer-encoding") }
            return false
        }
        guard head.version.major == 1 && head.version.minor >= 1 else { return false }
        head.headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
        return true
    }

    private static func statusLineSize(_ version: HTTPVersion, _ status: HTTPResponseStatus) -> Int {
        let rest = WireCursor.decimalDigits(status.code) + 1 + status.reasonPhrase.utf8.count + 2
        switch (version.major, version.minor) {
        case (1, 1), (1, 0): return 9 + rest
        default: return versionString(version).utf8.count + 1 + rest
        }
    }

    /// The version as NIOHTTP1's encoder writes one other than 1.0 and 1.1 (its `(minor, major)` match included).
    private static func versionString(_ version: HTTPVersion) -> String {
        switch (version.minor, version.major) {
        case (1, 0): "HTTP/1.0"
        case (1, 1): "HTTP/1.1"
        default: "HTTP/\(version.major).\(version.minor)"
        }
    }

    private static func appendStatusLine(_ version: HTTPVersion, _ status: HTTPResponseStatus, to out: inout WireCursor)
    {
        switch (version.major, version.minor) {
        case (1, 1): out.append("HTTP/1.1 " as StaticString)
        case (1, 0): out.append("HTTP/1.0 " as StaticString)
        default:
            out.append(versionString(version))
            out.append(UInt8(ascii: " "))
        }
        out.appendDecimal(status.code)
        out.append(UInt8(ascii: " "))
        out.append(status.reasonPhrase)
        out.append("\r\n" as StaticString)
    }

    /// A chunk's size line: hexadecimal, CRLF.
    static func writeChunkHeader(_ count: Int, into buffer: inout ByteBuffer) {
        var digits = 1
        while count >> (4 * digits) != 0 { digits += 1 }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: digits + 2) { raw in
            let out = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            for i in 0..<digits {
                let nibble = UInt8((count >> (4 * (digits - 1 - i))) & 0xF)
                out[i] = nibble < 10 ? 0x30 + nibble : 0x61 + nibble - 10
            }
            out[digits] = UInt8(ascii: "\r")
            out[digits + 1] = UInt8(ascii: "\n")
            return digits + 2
        }
    }
}
