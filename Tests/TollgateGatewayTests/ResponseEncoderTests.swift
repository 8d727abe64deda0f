import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import TollgateModel

@testable import TollgateGateway

/// `ResponseEncoder` against NIOHTTP1's own server pipeline (request decoder linked to the response encoder): the
/// same response parts, after requests with the same methods, give the same bytes and the same refused writes.
@Suite("Response encoder")
struct ResponseEncoderTests {
    /// What a sequence of writes produced: the bytes, and which writes failed.
    struct Written: Equatable, CustomStringConvertible {
        var bytes: [UInt8] = []
        var failed: [Bool] = []
        var description: String { "\(failed) \(String(decoding: bytes, as: UTF8.self).debugDescription)" }
    }

    /// One request answered: its method (nil: no request was read, as for a response to a parse error) and the
    /// parts written.
    struct Exchange {
        var method: HTTPMethod?
        var parts: [HTTPServerResponsePart]
    }

    static func requestBytes(_ method: HTTPMethod) -> String {
        switch method {
        case .CONNECT: "CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n"
        case .POST, .PUT: "\(method.rawValue) /x HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\n\r\n"
        default: "\(method.rawValue) /x HTTP/1.1\r\nhost: a\r\n\r\n"
        }
    }

    /// NIOHTTP1's server pipeline: the requests are read (pipelined), then the responses written.
    static func reference(_ exchanges: [Exchange]) throws -> Written {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
            withEncoderConfiguration: .init(), withDecoderLimitConfiguration: .init())
        var input = ""
        for exchange in exchanges { if let method = exchange.method { input += requestBytes(method) } }
        if !input.isEmpty {
            try channel.writeInbound(ByteBuffer(string: input))
            while try channel.readInbound(as: HTTPServerRequestPart.self) != nil {}
        }
        var written = Written()
        for exchange in exchanges {
            for part in exchange.parts {
                do {
                    try channel.writeOutbound(part)
                    written.failed.append(false)
                } catch {
                    written.failed.append(true)
                }
                while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
                    written.bytes += buffer.readableBytesView
                }
            }
        }
        return written
    }

    /// `ResponseEncoder`, told each request's method as `ProxyHandler` tells it.
    static func encoded(_ exchanges: [Exchange]) -> Written {
        var encoder = ResponseEncoder()
        let allocator = ByteBufferAllocator()
        var written = Written()
        for exchange in exchanges {
            if let method = exchange.method { encoder.requestStarted(method: method) }
            for part in exchange.parts {
                switch encoder.encode(part, allocator: allocator) {
                case .nothing:
                    written.failed.append(false)
                case .bytes(let data):
                    written.bytes += bytes(data)
                    written.failed.append(false)
                case .chunk(let header, let data, let trailer):
                    written.bytes += header.readableBytesView + bytes(data) + trailer.readableBytesView
                    written.failed.append(false)
                case .refused:
                    written.failed.append(true)
                }
            }
        }
        return written
    }

    static func bytes(_ data: IOData) -> [UInt8] {
        guard case .byteBuffer(let buffer) = data else { return [] }
        return Array(buffer.readableBytesView)
    }

    static let headerSets: [[(String, String)]] = [
        [],
        [("content-type", "application/json"), ("content-length", "5")],
        [("Transfer-Encoding", "chunked"), ("x-request-id", "abc")],
        [("Content-Length", "5"), ("transfer-encoding", "chunked"), ("date", "Thu, 03 Dec 2026 21:00:00 GMT")],
        [("transfer-encoding", "gzip"), ("x-a", ""), ("X-B", "two words")],
        [("content-length", "0"), ("connection", "close"), ("cf-aig-log-id", "01JB0000000000000000000000")],
    ]

    static let bodies: [[IOData]] = [
        [],
        [.byteBuffer(ByteBuffer(string: "hello"))],
        [
            .byteBuffer(ByteBuffer(string: "")), .byteBuffer(ByteBuffer(string: "data: {\"a\":1}\n\n")),
            .byteBuffer(ByteBuffer(repeating: 0x61, count: ResponseEncoder.copyLimit + 1)),
            .byteBuffer(ByteBuffer(repeating: 0x62, count: ResponseEncoder.copyLimit)),
        ],
    ]

    static func response(
        _ version: HTTPVersion, _ status: HTTPResponseStatus, _ headers: [(String, String)], _ body: [IOData],
        trailers: HTTPHeaders? = nil
    ) -> [HTTPServerResponsePart] {
        [.head(HTTPResponseHead(version: version, status: status, headers: HTTPHeaders(headers)))]
            + body.map { .body($0) } + [.end(trailers)]
    }

    @Test func everyStatusLineAndFramingMatchesNIO() throws {
        let methods: [HTTPMethod?] = [nil, .GET, .HEAD, .POST, .CONNECT]
        for code in 100...599 {
            let status = HTTPResponseStatus(statusCode: code)
            for method in methods {
                for version in [HTTPVersion.http1_1, .http1_0] {
                    let exchanges = [
                        Exchange(method: method, parts: Self.response(version, status, Self.headerSets[1], []))
                    ]
                    #expect(
                        try Self.reference(exchanges) == Self.encoded(exchanges),
                        "\(code) \(String(describing: method))")
                }
            }
        }
        let custom = HTTPResponseStatus.custom(code: 299, reasonPhrase: "Fine By Me")
        let exchanges = [Exchange(method: .GET, parts: Self.response(.http1_1, custom, [], Self.bodies[1]))]
        #expect(try Self.reference(exchanges) == Self.encoded(exchanges))
    }

    @Test func headersBodiesAndMethodsMatchNIO() throws {
        let statuses: [HTTPResponseStatus] = [.ok, .created, .noContent, .notModified, .notFound, .badGateway]
        let versions = [
            HTTPVersion.http1_1, .http1_0, HTTPVersion(major: 2, minor: 0), HTTPVersion(major: 0, minor: 1),
        ]
        let methods: [HTTPMethod?] = [nil, .GET, .HEAD, .POST, .CONNECT]
        for status in statuses {
            for version in versions {
                for method in methods {
                    for headers in Self.headerSets {
                        for body in Self.bodies {
                            let exchanges = [
                                Exchange(method: method, parts: Self.response(version, status, headers, body))
                            ]
                            #expect(
                                try Self.reference(exchanges) == Self.encoded(exchanges),
                                "\(status) \(version) \(String(describing: method)) \(headers) \(body.count) parts")
                        }
                    }
                }
            }
        }
    }

    @Test func trailersInterimHeadsAndKeepAliveSequencesMatchNIO() throws {
        var trailers = HTTPHeaders()
        trailers.add(name: "x-checksum", value: "abc")
        trailers.add(name: "Server-Timing", value: "total;dur=12")
        let sequences: [[Exchange]] = [
            // Chunked body ended with trailers.
            [Exchange(method: .POST, parts: Self.response(.http1_1, .ok, [], Self.bodies[2], trailers: trailers))],
            // Trailers on a body that is not chunked are not written.
            [
                Exchange(
                    method: .GET,
                    parts: Self.response(.http1_1, .ok, Self.headerSets[1], Self.bodies[1], trailers: trailers))
            ],
            // 100 Continue, then the final response: the interim head answers no request yet.
            [
                Exchange(
                    method: .HEAD,
                    parts: [.head(HTTPResponseHead(version: .http1_1, status: .continue))]
                        + Self.response(.http1_1, .ok, [], Self.bodies[1]))
            ],
            [
                Exchange(
                    method: .POST,
                    parts: [.head(HTTPResponseHead(version: .http1_1, status: .continue))]
                        + Self.response(.http1_1, .ok, [], Self.bodies[2]))
            ],
            // A HEAD response, then a GET and a CONNECT on the same connection, then a response to no request.
            [
                Exchange(method: .HEAD, parts: Self.response(.http1_1, .ok, [], Self.bodies[1])),
                Exchange(method: .GET, parts: Self.response(.http1_1, .ok, [], Self.bodies[2])),
                Exchange(method: .CONNECT, parts: Self.response(.http1_1, .ok, Self.headerSets[2], Self.bodies[1])),
                Exchange(method: nil, parts: Self.response(.http1_1, .badRequest, Self.headerSets[1], Self.bodies[1])),
            ],
            // 101 is a final head: it answers the request.
            [
                Exchange(method: .HEAD, parts: Self.response(.http1_1, .switchingProtocols, [], [])),
                Exchange(method: .GET, parts: Self.response(.http1_1, .ok, [], Self.bodies[1])),
            ],
        ]
        for exchanges in sequences {
            #expect(try Self.reference(exchanges) == Self.encoded(exchanges))
        }
    }

    /// The proxy's heads (`encodeHead`: the upstream's fields as their lines came, with one space after the colon
    /// or not, then the gateway's, then a `connection` header) followed by a body and the end, against NIOHTTP1 with
    /// the same headers in one `HTTPHeaders`.
    @Test func headsFromFieldsMatchNIO() throws {
        let methods: [HTTPMethod?] = [nil, .GET, .HEAD, .POST, .CONNECT]
        let statuses: [HTTPResponseStatus] = [.ok, .created, .noContent, .notModified, .badGateway]
        let connections: [StaticString?] = [nil, "close", "keep-alive"]
        let separators = [": ", ":", ":  \t"]
        // The gateway's own headers: none; as strings; the log id written as bytes, then a string one.
        let id = LogID(high: 0x0193_F2A4_7B10_7C3D, low: 0x8E21_55AA_0F3C_9D01)
        let extras: [(logID: LogID?, fields: [(name: String, value: String)])] = [
            (nil, []), (nil, [("cf-aig-log-id", "01J9ZQ"), ("cf-aig-step", "1")]), (id, [("cf-aig-step", "2")]),
        ]
        for method in methods {
            for status in statuses {
                for version in [HTTPVersion.http1_1, .http1_0] {
                    for (index, fields) in Self.headerSets.enumerated() {
                        for connection in connections {
                            for body in Self.bodies {
                                let separator = separators[index % separators.count]
                                let (logID, extra) = extras[index % extras.count]
                                let all =
                                    fields + (logID.map { [("cf-aig-log-id", $0.description)] } ?? [])
                                    + extra.map { ($0.name, $0.value) }
                                    + (connection.map { [("connection", "\($0)")] } ?? [])
                                let expected = try Self.reference([
                                    Exchange(method: method, parts: Self.response(version, status, all, body))
                                ])
                                var encoder = ResponseEncoder()
                                if let method { encoder.requestStarted(method: method) }
                                let head = encoder.encodeHead(
                                    version: version, status: status, fields: Self.lines(fields, separator: separator),
                                    logID: logID, extra: extra[...], connection: connection,
                                    allocator: ByteBufferAllocator())
                                var written = Written(bytes: Array(head.readableBytesView), failed: [false])
                                for part in body.map({ HTTPServerResponsePart.body($0) }) + [.end(nil)] {
                                    switch encoder.encode(part, allocator: ByteBufferAllocator()) {
                                    case .nothing: written.failed.append(false)
                                    case .bytes(let data):
                                        written.bytes += Self.bytes(data)
                                        written.failed.append(false)
                                    case .chunk(let header, let data, let trailer):
                                        written.bytes += header.readableBytesView + Self.bytes(data)
                                        written.bytes += trailer.readableBytesView
                                        written.failed.append(false)
                                    case .refused: written.failed.append(true)
                                    }
                                }
                                #expect(
                                    written == expected,
                                    "\(status) \(version) \(String(describing: method)) \(all) \(body.count) parts")
                            }
                        }
                    }
                }
            }
        }
    }

    /// Fields as an upstream's head holds them (`FieldLines`): each line the name, `separator`, the value and CRLF.
    static func lines(_ fields: [(String, String)], separator: String) -> FieldLines {
        var bytes: [UInt8] = []
        var spans: [FieldLines.Span] = []
        for (name, value) in fields {
            let nameStart = Int32(bytes.count)
            bytes += Array(name.utf8)
            let nameEnd = Int32(bytes.count)
            bytes += Array(separator.utf8)
            let valueStart = Int32(bytes.count)
            bytes += Array(value.utf8)
            spans.append(
                FieldLines.Span(
                    nameStart: nameStart, nameEnd: nameEnd, valueStart: valueStart, valueEnd: Int32(bytes.count)))
            bytes += Array("\r\n".utf8)
        }
        return FieldLines(bytes: ByteBuffer(bytes: bytes), spans: spans, canonical: separator == ": ")
    }

    @Test func aHEADResponseKeepsItsFramingAndRefusesItsBody() throws {
        let exchanges = [
            Exchange(method: .HEAD, parts: Self.response(.http1_1, .ok, [("x-a", "1")], Self.bodies[1])),
            Exchange(method: .GET, parts: Self.response(.http1_1, .noContent, [("content-length", "0")], [])),
        ]
        let expected = Written(
            bytes: Array(
                ("HTTP/1.1 200 OK\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n\r\n"
                    + "HTTP/1.1 204 No Content\r\n\r\n").utf8),
            failed: [false, true, false, false, false])
        #expect(try Self.reference(exchanges) == expected)
        #expect(Self.encoded(exchanges) == expected)
    }

    @Test func chunkHeadersAreLowercaseHexadecimal() {
        for count in [1, 9, 10, 15, 16, 255, 256, 4095, 65_536, 1_048_575] {
            var buffer = ByteBuffer()
            ResponseEncoder.writeChunkHeader(count, into: &buffer)
            #expect(buffer.readString(length: buffer.readableBytes) == String(count, radix: 16) + "\r\n")
        }
    }
}
