import NIOCore
import NIOHTTP1

/// Decodes an upstream connection's bytes into response parts, as NIOHTTP1's `HTTPResponseDecoder` does with its
/// defaults (the same parts, the same rules, the same errors, informational responses dropped), at less cost: a head
/// is found by one scan for its empty line and read in one pass; its fields are kept as the bytes of their lines
/// (`UpstreamResponseHead`), made `String`s only for a request whose exchange records its headers (told with the
/// request, `requestStarted`); body parts are slices of the bytes read.
///
/// Framing follows the request each response answers (`requestStarted`, told by `UpstreamConnection` as it writes
/// the request head): a response to `HEAD` or `CONNECT`, and one with status 1xx, 204 or 304, has no body whatever
/// its headers say; otherwise the body is chunked, has a length, or runs to the connection's close. A 1xx other than
/// 101 is dropped and the final response follows. A response that does not keep the connection alive ends the
/// stream (anything but blank lines after it is `closedConnection`); after a 101 upgrade nothing more is decoded.
final class ResponseDecoder: ByteToMessageDecoder {
    typealias InboundOut = UpstreamResponsePart

    private enum State {
        case head(scanned: Int)
        case body(BodyReader, then: After)
        case closed
        case upgraded
    }

    private enum After {
        case next
        case closed
        case upgraded
    }

    /// A head read (nil for an informational response, which is dropped), its body's reader (nil: no body) and what
    /// follows: a struct, not a tuple, so the optional of it is destroyed without looking up its type at run time.
    private struct ReadHead {
        var head: UpstreamResponseHead?
        var reader: BodyReader?
        var after: After

        init(_ head: UpstreamResponseHead?, _ reader: BodyReader?, _ after: After) {
            self.head = head
            self.reader = reader
            self.after = after
        }
    }

    private var state = State.head(scanned: 0)
    private let limits: HTTP1Wire.Limits
    /// The requests written whose final response heads have not come yet, oldest first.
    private var requests = CircularBuffer<Request>(initialCapacity: 2)
    /// Where the field spans of the next head go (`readHead`).
    private var spanStorage: [FieldLines.Span] = []
    /// The response whose head came last is read up to the connection's close: the connection cannot be reused,
    /// whatever its `Connection` header says (NIOHTTP1's head says so in its `isKeepAlive`, which a head made here
    /// cannot).
    private(set) var responseEndsAtClose = false
    /// The response whose head came last has a `Connection` header (without one, whether it keeps the connection
    /// alive follows from its version alone).
    private(set) var responseHasConnectionHeader = false

    init(limits: NIOHTTPDecoderLimitConfiguration = .init()) {
        self.limits = HTTP1Wire.Limits(limits)
    }

    /// A request written, as its response is read: its method frames the response (a `HEAD` has no body), and
    /// `recordsHeaders` asks for the response's fields packed (`UpstreamResponseHead.recorded`).
    private struct Request {
        var method: HTTPMethod
        var recordsHeaders: Bool
    }

    /// The handler right after this decoder's in the pipeline (`UpstreamConnection`), when it asked to be handed the
    /// parts directly: a part fired down the pipeline is wrapped in an `NIOAny` and cast back at run time by the next
    /// handler, three times a response. Nil: parts are fired down the pipeline. Set and cleared by that handler.
    var receiver: UpstreamConnection?

    @inline(__always)
    private func deliver(_ part: UpstreamResponsePart, _ context: ChannelHandlerContext) {
        if let receiver {
            receiver.received(part)
        } else {
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    /// A request head with `method` was written: the next final response answers it (after those before it).
    /// `recordsHeaders`: the exchange records the response's headers, so the head comes with them packed.
    func requestStarted(method: HTTPMethod, recordsHeaders: Bool = true) {
        requests.append(Request(method: method, recordsHeaders: recordsHeaders))
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        while true {
            switch state {
            case .head(let scanned):
                guard let read = try readHead(&buffer, scanned: scanned) else { return .needMoreData }
                let (reader, after) = (read.reader, read.after)
                guard let head = read.head else {
                    // An informational response: dropped.
                    finished(after)
                    continue
                }
                if let reader { state = .body(reader, then: after) } else { finished(after) }
                responseEndsAtClose = reader?.endsAtClose ?? false
                deliver(.head(head), context)
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
                let view = buffer.readableBytesView
                buffer.moveReaderIndex(forwardBy: view.prefix { $0 == HTTP1Wire.cr || $0 == HTTP1Wire.lf }.count)
                if buffer.readableBytes > 0 { throw HTTPParserError.closedConnection }
                return .needMoreData
            case .upgraded:
                return .needMoreData
            }
        }
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        if case .upgraded = state { return .needMoreData }
        while buffer.readableBytes > 0, case .continue = try decode(context: context, buffer: &buffer) {}
        guard seenEOF else { return .needMoreData }
        switch state {
        case .head:
            let view = buffer.readableBytesView
            buffer.moveReaderIndex(forwardBy: view.prefix { $0 == HTTP1Wire.cr || $0 == HTTP1Wire.lf }.count)
            if buffer.readableBytes > 0 { throw HTTPParserError.invalidEOFState }
        case .body(let reader, _):
            // A body read to the close ends there; any other is cut short.
            guard reader.endsAtClose else { throw HTTPParserError.invalidEOFState }
            state = .closed
            deliver(.end(nil), context)
        case .closed, .upgraded:
            break
        }
        return .needMoreData
    }

    private func finished(_ after: After) {
        switch after {
        case .next: state = .head(scanned: 0)
        case .closed: state = .closed
        case .upgraded: state = .upgraded
        }
    }

    /// A complete head at the front of `buffer` (after blank lines), consumed: the head (nil for an informational
    /// response, which is dropped), its body's reader (nil: no body) and what follows. Nil when not complete yet.
    private func readHead(_ buffer: inout ByteBuffer, scanned: Int) throws -> ReadHead? {
        if scanned == 0 {
            let view = buffer.readableBytesView
            if let first = view.first, first == HTTP1Wire.cr || first == HTTP1Wire.lf {
                buffer.moveReaderIndex(forwardBy: view.prefix { $0 == HTTP1Wire.cr || $0 == HTTP1Wire.lf }.count)
            }
        }
        let limits = limits
        let records = requests.first?.recordsHeaders ?? true
        // The spans go into the array the last head's went into: by now that head is gone, so its storage is
        // this decoder's alone and is filled again in place (no allocation per response).
        var spans: [FieldLines.Span] = []
        swap(&spans, &spanStorage)
        spans.removeAll(keepingCapacity: true)
        if spans.capacity < 16 { spans.reserveCapacity(16) }
        let parsed = try buffer.withUnsafeReadableBytes { bytes -> (Int, Parsed)? in
            guard let end = HTTP1Wire.sectionEnd(bytes, start: 0, from: scanned) else {
                guard bytes.count <= limits.unfinishedHeadBound else { throw HTTPParserError.headerOverflow }
                return nil
            }
            return (end, try Self.parseHead(bytes, end: end, limits: limits, spans: &spans))
        }
        spanStorage = spans
        guard let (end, head) = parsed else {
            state = .head(scanned: buffer.readableBytes)
            return nil
        }
        let fieldBytes =
            spans.isEmpty
            ? ByteBuffer()
            : buffer.getSlice(at: buffer.readerIndex + head.fieldsStart, length: end - 2 - head.fieldsStart)!
        buffer.moveReaderIndex(forwardBy: end)
        let code = head.status
        let keepAlive = head.framing.keepAlive(minor: head.minor)
        let interim = (100..<200).contains(code) && code != 101
        if interim { return ReadHead(nil, nil, keepAlive ? .next : .closed) }
        guard let method = requests.popFirst()?.method else { throw NIOHTTPDecoderError.unsolicitedResponse }
        let fields = FieldLines(bytes: fieldBytes, spans: spans, canonical: head.canonical)
        let response = UpstreamResponseHead(
            version: HTTPVersion(major: 1, minor: head.minor), status: HTTPResponseStatus(statusCode: code),
            fields: fields, recorded: records ? fields.packed() : nil)
        let framing = head.framing
        responseHasConnectionHeader = framing.hasConnection
        if method.isHEAD || method.isCONNECT || code / 100 == 1 || code == 204 || code == 304 {
            let upgrade = code == 101 && framing.hasUpgrade && framing.connectionUpgrade
            return ReadHead(response, nil, upgrade ? .upgraded : keepAlive ? .next : .closed)
        }
        if framing.hasTransferEncoding {
            if framing.chunked {
                return ReadHead(
                    response, BodyReader(.chunked, limits: limits, budget: head.budget), keepAlive ? .next : .closed)
            }
            return ReadHead(response, BodyReader(.untilClose, limits: limits, budget: head.budget), .closed)
        }
        if let length = framing.contentLength {
            return ReadHead(
                response, BodyReader(.length(length), limits: limits, budget: head.budget), keepAlive ? .next : .closed)
        }
        return ReadHead(response, BodyReader(.untilClose, limits: limits, budget: head.budget), .closed)
    }

    private struct Parsed {
        var minor: Int
        var status: Int
        /// Where the first field line starts; the spans count from there.
        var fieldsStart: Int
        var canonical: Bool
        var framing: HTTP1Wire.Framing
        var budget: HTTP1Wire.Budget
    }

    /// Parses the head in `bytes[0..<end]` (`end` is just past its empty line): `HTTP/1.x NNN reason`, then fields,
    /// whose spans are appended to `spans`.
    private static func parseHead(
        _ bytes: UnsafeRawBufferPointer, end: Int, limits: HTTP1Wire.Limits, spans: inout [FieldLines.Span]
    ) throws -> Parsed {
        guard let feed = HTTP1Wire.lineFeed(bytes, from: 0, before: end), feed >= 1, bytes[feed - 1] == HTTP1Wire.cr
        else { throw HTTPParserError.lfExpected }
        let lineEnd = feed - 1
        var versionEnd = 0
        while versionEnd < lineEnd && bytes[versionEnd] != HTTP1Wire.space { versionEnd += 1 }
        let minor = try HTTP1Wire.version(bytes, at: 0, end: versionEnd)
        guard versionEnd + 4 <= lineEnd else { throw HTTPParserError.invalidStatus }
        var status = 0
        for index in versionEnd + 1..<versionEnd + 4 {
            let byte = bytes[index]
            guard byte >= 0x30 && byte <= 0x39 else { throw HTTPParserError.invalidStatus }
            status = status * 10 + Int(byte - 0x30)
        }
        var index = versionEnd + 4
        if index < lineEnd {
            guard bytes[index] == HTTP1Wire.space else { throw HTTPParserError.invalidStatus }
            index += 1
            while index < lineEnd {
                guard HTTP1Wire.isValueByte(bytes[index]) else { throw HTTPParserError.invalidStatus }
                index += 1
            }
        }
        var framing = HTTP1Wire.Framing()
        var budget = HTTP1Wire.Budget()
        let fieldsStart = feed + 1
        var canonical = true
        try withUnsafeMutablePointer(to: &framing) { framing in
            try HTTP1Wire.forEachField(
                bytes, from: fieldsStart, to: end - 2, framing: framing, limits: limits, budget: &budget
            ) { nameStart, nameEnd, valueStart, valueEnd in
                spans.append(
                    FieldLines.Span(
                        nameStart: Int32(nameStart - fieldsStart), nameEnd: Int32(nameEnd - fieldsStart),
                        valueStart: Int32(valueStart - fieldsStart), valueEnd: Int32(valueEnd - fieldsStart)))
                if valueStart != nameEnd + 2 || bytes[nameEnd + 1] != HTTP1Wire.space { canonical = false }
            }
        }
        return Parsed(
            minor: minor, status: status, fieldsStart: fieldsStart, canonical: canonical,
            framing: framing, budget: budget)
    }
}
