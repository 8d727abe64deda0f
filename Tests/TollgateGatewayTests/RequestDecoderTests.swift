import NIOCore
import NIOHTTP1
import Testing

@testable import TollgateGateway

/// `RequestDecoder` against NIOHTTP1's `HTTPRequestDecoder`: the same bytes, cut at every offset and in random
/// chunks, give the same request parts (bodies merged), and the same inputs are refused.
@Suite("Request decoder")
struct RequestDecoderTests {
    typealias Comparison = HTTPDecoderComparison

    static let chat =
        #"{"model":"gpt-5-mini","messages":[{"role":"user","content":"Summarise the plot of a short story."}]}"#

    /// Requests both decoders take, alone or several in one stream.
    static let accepted: [String] = [
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        // Pipelined on one connection: a head's fields equal to the last head's at the same place are reused, so
        // these change a value, its length, a name's case, the order and the number of fields.
        "GET /a HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer sk-1\r\nAccept: */*\r\n\r\n"
            + "GET /b HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer sk-2\r\nAccept: */*\r\n\r\n"
            + "GET /c HTTP/1.1\r\nhost: a\r\nAccept: */*\r\nAuthorization: Bearer sk-22\r\nX-More: 1\r\n\r\n"
            + "GET /d HTTP/1.1\r\nhost: a\r\n\r\n",
        "GET /v1/acme/prod/openai/models?x=1&y=%20 HTTP/1.1\r\nhost: a\r\naccept: */*\r\n\r\n",
        "POST /v1/default/default/openai/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
            + "Content-Type: application/json\r\nAuthorization: Bearer sk-bench\r\nContent-Length: \(chat.utf8.count)"
            + "\r\n\r\n\(chat)",
        "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1;b\r\n world\r\n0\r\n\r\n",
        "POST /x HTTP/1.1\r\ntransfer-encoding: gzip, chunked\r\n\r\nA\r\n0123456789\r\n0;last\r\nx-sum: 1\r\n"
            + "X-Other:  two  \r\n\r\n",
        "POST /x HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\n\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n",
        "POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        "PUT /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\n\r\nDELETE /c HTTP/1.1\r\n\r\n",
        "\r\n\r\nGET / HTTP/1.1\r\n\r\n\r\nHEAD / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n",
        "GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.1\r\nConnection: close\r\n\r\n\r\n",
        "GET / HTTP/1.1\r\nConnection: x, Close\r\n\r\n",
        "GET  /two-spaces HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nA: 0123456789abcdef\t0123456789 ~ caf\u{e9} \u{1F600}0123456789abcdef\r\n\r\n",
        "GET / HTTP/1.1\r\nA:\r\nB: \t \r\nC:\tv\t\r\nD: a  b\r\nE: caf\u{e9} \u{1F600}\r\n\r\n",
        "GET / HTTP/1.1\r\nX-A: 1\r\nx-a: 2\r\nX-A: 3\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\n\r\nPATCH /p HTTP/1.1\r\ncontent-length: 1\r\n\r\nzM-SEARCH * HTTP/1.1\r\n\r\n",
        "GET http://example.com/a?b HTTP/1.1\r\n\r\n",
        "QUERY /q HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}SOURCE /s HTTP/1.1\r\n\r\nUNLINK /u HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nGET /after HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\nGET /after HTTP/1.1\r\n\r\n",
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nbytes after",
        "POST / HTTP/1.1\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody",
        "TRACE / HTTP/1.1\r\n\r\nLOCK / HTTP/1.1\r\n\r\nPROPFIND / HTTP/1.1\r\n\r\nPURGE / HTTP/1.1\r\n\r\n",
        // Cut short by the close: an error at EOF, after what was complete.
        "GET / HTTP/1.1\r\nHost: a\r\n",
        "GET / HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        // Data after a request that closes the connection.
        "GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    ]

    /// Requests both decoders refuse.
    static let refused: [String] = [
        "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "GET / HTTP/1.1\r\n: x\r\n\r\n",
        "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\u{01}c\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
        // Long values, read eight bytes at a time: a refused byte at each place in a word.
        "GET / HTTP/1.1\r\nA: 0123456789abcdef\u{01}0123456789abcdef\r\n\r\n",
        "GET / HTTP/1.1\r\nA: 0123456789abcde\u{7F}0123456789abcdef\r\n\r\n",
        "GET / HTTP/1.1\r\nA: 0123456789abcd\u{1F}\r\n\r\n",
        "GET / HTTP/1.1\r\nA: 01234567\u{7F}9abcdef0123\r\n\r\n",
        "GET / HTTP/1.1\r\nA: 0123456\u{00}89abcdef0123\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.2\r\n\r\n",
        "GET / HTTP/0.9\r\n\r\n",
        "GET / HTTX/1.1\r\n\r\n",
        "GET /\r\n\r\n",
        "FOO / HTTP/1.1\r\n\r\n",
        "get / HTTP/1.1\r\n\r\n",
        " GET / HTTP/1.1\r\n\r\n",
        "GET /a b HTTP/1.1\r\n\r\n",
        "GET /a\u{7F} HTTP/1.1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: x\r\n\r\n",
    ]

    static func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

    func compare(_ input: [UInt8], limits: NIOHTTPDecoderLimitConfiguration = .init(), seed: UInt64) -> Bool {
        for chunks in Comparison.cuts(input, seed: seed) {
            let expected = Comparison.nioRequests(chunks, limits: limits)
            let actual = Comparison.tollgateRequests(chunks, limits: limits)
            if !expected.matches(actual) {
                Issue.record(
                    """
                    \(String(decoding: input, as: UTF8.self).debugDescription) cut \(chunks.map(\.count)):
                    NIO:      \(expected)
                    Tollgate: \(actual)
                    """)
                return false
            }
            if actual.error != nil && !actual.parserError {
                Issue.record("not an HTTPParserError: \(actual)")
                return false
            }
        }
        return true
    }

    @Test func acceptedRequestsDecodeAsNIODecodesThem() {
        for (index, request) in Self.accepted.enumerated() {
            _ = compare(Self.bytes(request), seed: UInt64(index))
        }
    }

    @Test func allAcceptedRequestsPipelinedInOneStream() {
        // Those that leave the connection open, one after the other.
        let open = Self.accepted.filter { request in
            let outcome = Comparison.nioRequests([Self.bytes(request)])
            return outcome.error == nil && !request.lowercased().contains("close")
                && !request.contains("HTTP/1.0\r\n\r\n")
                && !request.contains("Upgrade") && !request.hasPrefix("CONNECT")
        }
        #expect(open.count > 10)
        let stream = Self.bytes(open.joined())
        let outcome = Comparison.tollgateRequests([stream])
        #expect(outcome.error == nil)
        _ = compare(stream, seed: 99)
    }

    @Test func refusedRequestsAreRefusedAfterTheSameParts() {
        for (index, request) in Self.refused.enumerated() {
            let outcome = Comparison.tollgateRequests([Self.bytes(request)])
            #expect(outcome.error != nil, "\(request.debugDescription)")
            #expect(outcome.parserError, "\(request.debugDescription): \(outcome)")
            _ = compare(Self.bytes(request), seed: 1000 + UInt64(index))
        }
    }

    @Test func largeBodiesDecodeAsNIODecodesThem() {
        let body = String(repeating: "0123456789abcdef", count: 8 * 1024)
        let length = "POST /big HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)GET / HTTP/1.1\r\n\r\n"
        _ = compare(Self.bytes(length), seed: 7)
        var chunked = "POST /big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        for size in [1, 4096, 65536, 17, 3] {
            chunked += String(size, radix: 16) + "\r\n" + String(repeating: "x", count: size) + "\r\n"
        }
        chunked += "0\r\n\r\n"
        _ = compare(Self.bytes(chunked), seed: 8)
    }

    /// Header names are checked byte by byte against RFC 9110's token characters: every byte value, against the
    /// list as the RFC writes it.
    @Test func tokenBytesAreTheRFCs() {
        let token = Set(
            Array("!#$%&'*+-.^_`|~0123456789".utf8) + Array(UInt8(ascii: "A")...UInt8(ascii: "Z"))
                + Array(UInt8(ascii: "a")...UInt8(ascii: "z")))
        for byte in UInt8.min...UInt8.max {
            #expect(HTTP1Wire.isToken(byte) == token.contains(byte), "byte \(byte)")
        }
    }

    /// A header name is read eight bytes at a time while they are letters, digits and hyphens, then byte by byte:
    /// every byte value at every place of a 20-byte name is refused or accepted as `isToken` says of it alone.
    @Test func nameBytesAreCheckedWhereverTheyFall() throws {
        let name = Array("x-ratelimit-Limit-09".utf8)
        for position in name.indices {
            for byte in UInt8.min...UInt8.max where byte != UInt8(ascii: ":") {
                var line = name
                line[position] = byte
                line += Array(": 1\r\n\r\n".utf8)
                var seen: [UInt8] = []
                var budget = HTTP1Wire.Budget()
                let accepted = line.withUnsafeBytes { bytes in
                    (try? HTTP1Wire.forEachField(
                        bytes, from: 0, to: bytes.count - 2, framing: nil, limits: HTTP1Wire.Limits(), budget: &budget
                    ) { nameStart, nameEnd, _, _ in seen = Array(bytes[nameStart..<nameEnd]) }) != nil
                }
                #expect(accepted == HTTP1Wire.isToken(byte), "byte \(byte) at \(position)")
                if accepted { #expect(seen == Array(line[0..<name.count]), "byte \(byte) at \(position)") }
            }
        }
    }

    @Test func limitsAreNIOs() {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = 32
        limits.maxHeaderListSize = 64
        limits.maxHeaderFieldCount = 4
        let cases = [
            // Within every limit.
            "GET /0123456789 HTTP/1.1\r\nabcdefghij: 0123456789\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
            // A value of 33 bytes; one of 32; a name of 33.
            "GET / HTTP/1.1\r\nabcdefghij: 012345678901234567890123456789012\r\n\r\n",
            "GET / HTTP/1.1\r\nabcdefghij: 01234567890123456789012345678901\r\n\r\n",
            "GET / HTTP/1.1\r\nabcdefghijabcdefghijabcdefghijabc: 1\r\n\r\n",
            // A target of 33 bytes.
            "GET /01234567890123456789012345678901 HTTP/1.1\r\n\r\n",
            // Five fields.
            "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n",
            // 65 bytes of target and fields together.
            "GET /0123456789 HTTP/1.1\r\nabcdefghij: 0123456789\r\nabcdefghij: 0123456789\r\nab: 0123456789012\r\n\r\n",
            // Trailers count too.
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nA: 1\r\nB: 2\r\n\r\n0\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n",
        ]
        for (index, request) in cases.enumerated() {
            _ = compare(Self.bytes(request), limits: limits, seed: 2000 + UInt64(index))
        }
        let outcome = Comparison.tollgateRequests([Self.bytes(cases[1])], limits: limits)
        #expect(outcome.error == "\(HTTPParserError.headerOverflow)")
    }

    @Test func anEndlessHeadIsRefusedOnceTooLong() {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = 1024
        limits.maxHeaderFieldCount = 16
        // No empty line ever comes: the head is refused once it is past what the limits allow, not buffered on.
        let chunks = [Self.bytes("GET / HTTP/1.1\r\n")] + Array(repeating: Self.bytes("A: 0123456789\r\n"), count: 1000)
        let outcome = Comparison.tollgateRequests(chunks, limits: limits)
        #expect(outcome.error == "\(HTTPParserError.headerOverflow)")
        #expect(outcome.events.isEmpty)
    }

    @Test func randomBytesNeverCrashAndEndInAnErrorOrParts() {
        var random = Comparison.SplitMix(seed: 42)
        let alphabet = Self.bytes(
            "GET POST / HTTP/1.1\r\n:abc0123456789;chunked Content-Length Transfer-Encoding\t\0\u{7F}")
        for _ in 0..<300 {
            let length = Int(random.next() % 120)
            let input = (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            let outcome = Comparison.tollgateRequests([input])
            if let error = outcome.error { #expect(outcome.parserError, "\(error)") }
        }
    }
}
