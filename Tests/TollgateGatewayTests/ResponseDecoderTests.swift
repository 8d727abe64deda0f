import NIOCore
import NIOHTTP1
import Testing

@testable import TollgateGateway

/// `ResponseDecoder` against NIOHTTP1's `HTTPResponseDecoder` (informational responses dropped), told the same
/// request methods: the same bytes, cut at every offset and in random chunks, give the same response parts (bodies
/// merged), and the same inputs are refused.
@Suite("Response decoder")
struct ResponseDecoderTests {
    typealias Comparison = HTTPDecoderComparison

    /// Responses both decoders take, and the methods of the requests they answer.
    static let accepted: [(String, [HTTPMethod])] = [
        ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}", [.POST]),
        ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", [.GET]),
        (
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "f\r\ndata: {\"a\":1}\n\n\r\nF\r\ndata: {\"b\":2}\n\n\r\ne\r\ndata: [DONE]\n\r\n0\r\n\r\n", [.POST]
        ),
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n0\r\nx-usage: 5\r\nx-b:\r\n\r\n",
            [.POST]
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nx",
            [.HEAD, .GET]
        ),
        (
            "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            [.GET, .GET]
        ),
        ("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", [.GET]),
        ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", [.POST]),
        (
            "HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
                + "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", [.POST]
        ),
        ("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nread to the close", [.GET]),
        ("HTTP/1.1 200 OK\r\n\r\nread to the close\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", [.GET]),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nread to the close", [.GET]),
        ("HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx", [.GET]),
        ("HTTP/1.1 299 Fine By Me\r\nContent-Length: 1\r\n\r\nx", [.GET]),
        ("HTTP/1.1 599 \r\nContent-Length: 1\r\n\r\nx", [.GET]),
        ("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", [.GET]),
        ("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok\r\n", [.GET]),
        (
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nokHTTP/1.0 200 OK\r\n\r\n",
            [.GET, .GET]
        ),
        ("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 3\r\nX-A:  b \r\n\r\nerr", [.POST]),
        ("\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", [.GET]),
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nframes", [.GET]
        ),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok", [.GET]),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", [.GET]),
        ("HTTP/1.1 200 OK\r\nContent-Le", [.GET]),
        ("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n", [.GET, .GET]),
        // One kept-alive connection: a head's fields equal to the last head's at the same place are reused, so
        // these change a value's length or bytes, the order, a name's case, and the number of fields.
        (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: req_0001\r\nContent-Length: 2\r\n\r\nok"
                + "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: req_0002\r\nContent-Length: 2\r\n\r\nok"
                + "HTTP/1.1 429 Too Many\r\nX-Request-Id: req_0002\r\nContent-Type: application/jsoN\r\n"
                + "content-length: 3\r\nRetry-After: 1\r\nX-Empty:\r\n\r\nerr"
                + "HTTP/1.1 200 OK\r\nX-Request-Id: req_0002\r\nContent-Type: application/jsoN\r\nContent-Length: 7\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
            [.GET, .GET, .GET, .HEAD, .GET]
        ),
    ]

    static let refused: [(String, [HTTPMethod])] = [
        ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", []),
        ("HTTP/1.1 2x0 OK\r\n\r\n", [.GET]),
        ("HTTP/1.1 20 OK\r\n\r\n", [.GET]),
        ("HTTP/2 200 OK\r\n\r\n", [.GET]),
        ("HTTP/2.0 200 OK\r\n\r\n", [.GET]),
        ("ICY 200 OK\r\n\r\n", [.GET]),
        ("HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n", [.GET]),
        ("HTTP/1.1 200 OK\r\nA: \u{01}\r\n\r\n", [.GET]),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", [.GET]),
        ("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", [.GET]),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", [.GET]),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\ng\r\n", [.GET]),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n", [.GET]),
    ]

    static func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

    /// Compares with NIOHTTP1 for every cut of `input`, the heads' fields read both ways: as the strings the decoder
    /// made for an exchange that records them, and made afterwards from the bytes the head kept.
    func compare(_ input: [UInt8], methods: [HTTPMethod], seed: UInt64) {
        for chunks in Comparison.cuts(input, seed: seed) {
            let expected = Comparison.nioResponses(chunks, methods: methods)
            for recordsHeaders in [true, false] {
                let actual = Comparison.tollgateResponses(chunks, methods: methods, recordsHeaders: recordsHeaders)
                if !expected.matches(actual) {
                    Issue.record(
                        """
                        \(String(decoding: input, as: UTF8.self).debugDescription) \(methods) \
                        cut \(chunks.map(\.count)), strings made as read: \(recordsHeaders)
                        NIO:      \(expected)
                        Tollgate: \(actual)
                        """)
                    return
                }
            }
        }
    }

    @Test func acceptedResponsesDecodeAsNIODecodesThem() {
        for (index, (response, methods)) in Self.accepted.enumerated() {
            compare(Self.bytes(response), methods: methods, seed: UInt64(index))
        }
    }

    @Test func refusedResponsesAreRefusedAfterTheSameParts() {
        for (index, (response, methods)) in Self.refused.enumerated() {
            let outcome = Comparison.tollgateResponses([Self.bytes(response)], methods: methods)
            #expect(outcome.error != nil, "\(response.debugDescription)")
            compare(Self.bytes(response), methods: methods, seed: 1000 + UInt64(index))
        }
    }

    @Test func aBodyCutShortByTheCloseIsTheParsersEOFError() {
        // `ProxyError.closed(by:midStream:)` reads this error as the upstream closing mid-stream.
        let outcome = Comparison.tollgateResponses(
            [Self.bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok")], methods: [.GET])
        #expect(outcome.error == "\(HTTPParserError.invalidEOFState)")
    }

    @Test func largeBodiesDecodeAsNIODecodesThem() {
        var chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        for size in [1, 4096, 65536, 17, 3] {
            chunked += String(size, radix: 16) + "\r\n" + String(repeating: "y", count: size) + "\r\n"
        }
        chunked += "0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n" + String(repeating: "z", count: 70000)
        compare(Self.bytes(chunked), methods: [.POST, .GET], seed: 5)
    }

    @Test func randomBytesNeverCrash() {
        var random = Comparison.SplitMix(seed: 43)
        let alphabet = Self.bytes("HTTP/1.1 200 OK\r\n:abc0123456789;chunked Content-Length Transfer-Encoding\t\0")
        for _ in 0..<300 {
            let length = Int(random.next() % 120)
            let input = (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            _ = Comparison.tollgateResponses([input], methods: [.GET, .GET])
        }
    }
}
