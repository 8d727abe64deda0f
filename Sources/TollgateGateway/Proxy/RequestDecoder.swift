import NIOCore
import NIOHTTP1

/// Decodes a client connection's bytes into request parts, as NIOHTTP1's `HTTPRequestDecoder` does (the same parts,
/// the same rules, the same `HTTPParserError`s, so Hummingbird answers a malformed request as before), at less cost:
/// a head is found by one scan for its empty line and read in one pass, each header name and value made a `String`
/// once; body parts are slices of the bytes read.
///
/// Pipelined requests in one read come out one after the other. A request whose connection is not kept alive
/// (`Connection: close`, or HTTP/1.0 without `keep-alive`) ends the stream: anything but blank lines after it is an
/// error (`closedConnection`). After an upgrade request (`CONNECT`, or `Upgrade` with `Connection: upgrade`) nothing
/// more is decoded.
struct RequestDecoder: ByteToMessageDecoder {
    typealias InboundOut = HTTPServerRequestPart

    private enum State {
        /// Before a request's head; `scanned` bytes of it were searched for its end.
        case head(scanned: Int)
        case body(BodyReader, then: After)
        /// After a request that closes the connection: only blank lines may follow.
        case closed
        /// After an upgrade request: nothing more is read.
        case upgraded
    }

    private enum After {
        case next
        case closed
        case upgraded
        /// The head is handed on, then refused: its body cannot be framed (a transfer coding other than chunked
        /// last), as llhttp refuses it once the head is complete.
        case refused
    }

    private var state = State.head(scanned: 0)
    private let limits: HTTP1Wire.Limits
    /// The last head's field strings, for the next head's equal fields.
    private var fieldStrings = HTTP1Wire.FieldStrings()

    /// The handler right after this decoder's in the pipeline (`ProxyHandler`), handed the parts directly: a part
    /// fired down the pipeline is wrapped in an `NIOAny` and cast back at run time by the next handler, three times a
    /// request. Nil, or a handler no longer in its pipeline: parts are fired down the pipeline.
    var receiver: ProxyHandler?

    init(limits: NIOHTTPDecoderLimitConfiguration = .init()) {
        self.limits = HTTP1Wire.Limits(limits)
    }

    @inline(__always)
    private func deliver(_ part: HTTPServerRequestPart, _ context: ChannelHandlerContext) {
        if let receiver, receiver.received(part) { return }
        context.fireChannelRead(wrapInboundOut(part))
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        while true {
            switch state {
            case .head(let scanned):
                guard let (head, reader, after) = try readHead(&buffer, scanned: scanned) else { return .needMoreData }
                if let reader { state = .body(reader, then: after) } else { finished(after) }
                deliver(.head(head), context)
                if case .refused = after { throw HTTPParserError.unknown }
                if reader == nil { deliver(.end(nil), context) }
            case .body(var reader, let after):
                let event = try reader.next(&buffer)
                switch event {
                case nil:
                    state = .body(reader, then: after)
                    return .needMoreData
                case .body(let bytes):
                    state = .body(reader, then: after)
                    deliver(.body(bytes), context)
                case .end(let trailers):
                    finished(after)
                    deliver(.end(trailers), context)
                }
            case .closed:
                try skipBlankLines(&buffer)
                return .needMoreData
            case .upgraded:
                return .needMoreData
            }
        }
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        if case .upgraded = state { return .needMoreData }
        while buffer.readableBytes > 0, case .continue = try decode(context: context, buffer: &buffer) {}
        guard seenEOF else { return .needMoreData }
        switch state {
        case .head:
            // Blank lines before a head are nothing; a head cut short is an error.
            try skipBlankLines(&buffer)
            if buffer.readableBytes > 0 { throw HTTPParserError.invalidEOFState }
        case .body:
            throw HTTPParserError.invalidEOFState
        case .closed, .upgraded:
            break
        }
        return .needMoreData
    }

    private mutating func finished(_ after: After) {
        switch after {
        case .next: state = .head(scanned: 0)
        case .closed: state = .closed
        case .upgraded: state = .upgraded
        case .refused: state = .closed
        }
    }

    /// Drops the CR and LF bytes at the front of `buffer`; anything else there is data after the connection's last
    /// request (`closedConnection`) when the state is `closed`.
    private mutating func skipBlankLines(_ buffer: inout ByteBuffer) throws {
        let view = buffer.readableBytesView
        let blank = view.prefix { $0 == HTTP1Wire.cr || $0 == HTTP1Wire.lf }.count
        buffer.moveReaderIndex(forwardBy: blank)
        if case .closed = state, buffer.readableBytes > 0 { throw HTTPParserError.closedConnection }
    }

    /// A complete head at the front of `buffer` (after blank lines), consumed: the head, its body's framing (nil:
    /// no body) and what follows the request. Nil when the head is not complete yet.
    private mutating func readHead(_ buffer: inout ByteBuffer, scanned: Int) throws -> (
        HTTPRequestHead, BodyReader?, After
    )? {
        if scanned == 0 {
            let view = buffer.readableBytesView
            if let first = view.first, first == HTTP1Wire.cr || first == HTTP1Wire.lf {
                buffer.moveReaderIndex(forwardBy: view.prefix { $0 == HTTP1Wire.cr || $0 == HTTP1Wire.lf }.count)
            }
        }
        let limits = limits
        let parsed = try buffer.withUnsafeReadableBytes { bytes -> (Int, HTTPRequestHead, BodyReader?, After)? in
            guard let end = HTTP1Wire.sectionEnd(bytes, start: 0, from: scanned) else {
                guard bytes.count <= limits.unfinishedHeadBound else { throw HTTPParserError.headerOverflow }
                return nil
            }
            return try Self.parseHead(bytes, end: end, limits: limits, strings: &fieldStrings)
        }
        guard let (end, head, reader, after) = parsed else {
            state = .head(scanned: buffer.readableBytes)
            return nil
        }
        buffer.moveReaderIndex(forwardBy: end)
        return (head, reader, after)
    }

    /// Parses the head in `bytes[0..<end]` (`end` is just past its empty line).
    private static func parseHead(
        _ bytes: UnsafeRawBufferPointer, end: Int, limits: HTTP1Wire.Limits, strings: inout HTTP1Wire.FieldStrings
    ) throws -> (
        Int, HTTPRequestHead, BodyReader?, After
    ) {
        guard let feed = HTTP1Wire.lineFeed(bytes, from: 0, before: end), feed >= 1, bytes[feed - 1] == HTTP1Wire.cr
        else { throw HTTPParserError.lfExpected }
        let lineEnd = feed - 1
        // The method: a token before the first space.
        var index = 0
        while index < lineEnd && HTTP1Wire.isToken(bytes[index]) { index += 1 }
        guard index > 0, index < lineEnd, bytes[index] == HTTP1Wire.space else { throw HTTPParserError.invalidMethod }
        let method = try Self.method(UnsafeRawBufferPointer(rebasing: bytes[0..<index]))
        // llhttp takes more than one space before the target.
        while index < lineEnd && bytes[index] == HTTP1Wire.space { index += 1 }
        // The target: visible bytes up to the next space.
        let targetStart = index
        while index < lineEnd && bytes[index] > 0x20 && bytes[index] != 0x7F { index += 1 }
        guard index > targetStart, index < lineEnd, bytes[index] == HTTP1Wire.space else {
            throw HTTPParserError.invalidURL
        }
        let targetEnd = index
        let minor = try HTTP1Wire.version(bytes, at: targetEnd + 1, end: lineEnd)
        var budget = HTTP1Wire.Budget()
        budget.listSize = targetEnd - targetStart
        if budget.listSize > limits.fieldSize || budget.listSize > limits.listSize {
            throw HTTPParserError.headerOverflow
        }
        var framing = HTTP1Wire.Framing()
        var fields: [(String, String)] = []
        fields.reserveCapacity(16)
        try withUnsafeMutablePointer(to: &framing) { framing in
            try withUnsafeMutablePointer(to: &strings) { strings in
                try HTTP1Wire.readFields(
                    bytes, from: feed + 1, to: end - 2, into: &fields, framing: framing, limits: limits,
                    budget: &budget, reusing: strings)
            }
        }
        if framing.codingAfterChunked { throw HTTPParserError.unknown }
        let head = HTTPRequestHead(
            version: HTTPVersion(major: 1, minor: minor), method: method,
            uri: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[targetStart..<targetEnd]), as: UTF8.self),
            headers: HTTPHeaders(fields))
        let upgrade = method.isCONNECT || (framing.hasUpgrade && framing.connectionUpgrade)
        let after: After = upgrade ? .upgraded : framing.keepAlive(minor: minor) ? .next : .closed
        // An upgrade request without a body (a `CONNECT` never has one) ends at its head. Otherwise the body is
        // chunked, or has a length, or there is none; a transfer coding other than chunked last is refused.
        if upgrade && (method.isCONNECT || !(framing.chunked || (framing.contentLength ?? 0) > 0)) {
            return (end, head, nil, after)
        }
        if framing.chunked { return (end, head, BodyReader(.chunked, limits: limits, budget: budget), after) }
        if framing.hasTransferEncoding { return (end, head, nil, .refused) }
        if let length = framing.contentLength, length > 0 {
            return (end, head, BodyReader(.length(length), limits: limits, budget: budget), after)
        }
        return (end, head, nil, after)
    }

    /// The methods llhttp reads in a request line, as NIOHTTP1 names them.
    private static func method(_ bytes: UnsafeRawBufferPointer) throws -> HTTPMethod {
        switch bytes.count {
        case 3 where HTTP1Wire.equalsExactly(bytes, "GET"): return .GET
        case 4 where HTTP1Wire.equalsExactly(bytes, "POST"): return .POST
        default: break
        }
        let name = String(decoding: bytes, as: UTF8.self)
        switch name {
        case "M-SEARCH": return .MSEARCH
        case "SOURCE": return .RAW(value: "SOURCE")
        case "QUERY": return .RAW(value: "QUERY")
        case "MSEARCH": throw HTTPParserError.invalidMethod
        default: break
        }
        let method = HTTPMethod(rawValue: name)
        if case .RAW = method { throw HTTPParserError.invalidMethod }
        return method
    }
}

extension HTTP1Wire {
    /// Whether `bytes` are exactly the bytes of `string`.
    @inline(__always)
    static func equalsExactly(_ bytes: UnsafeRawBufferPointer, _ string: StaticString) -> Bool {
        guard bytes.count == string.utf8CodeUnitCount else { return false }
        let other = string.utf8Start
        for index in 0..<bytes.count where bytes[index] != other[index] {
            return false
        }
        return true
    }
}
