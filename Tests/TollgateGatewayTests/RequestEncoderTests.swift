import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import TollgateGateway

/// `RequestEncoder` against NIOHTTP1's `HTTPRequestEncoder`: the same request parts give the same bytes, framing
/// headers set, dropped or kept by the same rules (a body part larger than the copy limit included).
@Suite("Request encoder")
struct RequestEncoderTests {
    static let methods: [HTTPMethod] = [.GET, .HEAD, .POST, .PUT, .PATCH, .DELETE, .TRACE, .OPTIONS]
    static let headerSets: [[(String, String)]] = [
        [],
        [("host", "api.example.com"), ("content-type", "application/json"), ("content-length", "5")],
        [("Transfer-Encoding", "chunked"), ("x-request-id", "abc")],
        [("Content-Length", "5"), ("transfer-encoding", "chunked"), ("authorization", "Bearer sk-1")],
        [("transfer-encoding", "gzip"), ("x-a", ""), ("X-B", "two words")],
        [("content-length", "0"), ("accept-encoding", "identity")],
    ]
    static let bodies: [[ByteBuffer]] = [
        [],
        [ByteBuffer(string: "hello")],
        [ByteBuffer(string: "he"), ByteBuffer(string: ""), ByteBuffer(string: "llo")],
        [ByteBuffer(repeating: UInt8(ascii: "x"), count: RequestEncoder.copyLimit + 1)],
    ]

    static func parts(_ head: HTTPRequestHead, _ body: [ByteBuffer]) -> [HTTPClientRequestPart] {
        [.head(head)] + body.map { .body(.byteBuffer($0)) } + [.end(nil)]
    }

    static func reference(_ parts: [HTTPClientRequestPart]) throws -> [UInt8] {
        let channel = EmbeddedChannel(handler: HTTPRequestEncoder())
        defer { _ = try? channel.finish() }
        var bytes: [UInt8] = []
        for part in parts {
            try channel.writeOutbound(part)
            while let data = try channel.readOutbound(as: IOData.self) { bytes += Self.bytes(data) }
        }
        return bytes
    }

    static func encoded(_ parts: [HTTPClientRequestPart]) -> [UInt8] {
        var encoder = RequestEncoder()
        let allocator = ByteBufferAllocator()
        var bytes: [UInt8] = []
        for part in parts {
            if let (before, large) = encoder.encode(part, allocator: allocator) {
                if let before { bytes += before.readableBytesView }
                bytes += Self.bytes(large)
            }
        }
        if let rest = encoder.take() { bytes += rest.readableBytesView }
        return bytes
    }

    static func bytes(_ data: IOData) -> [UInt8] {
        guard case .byteBuffer(let buffer) = data else { return [] }
        return Array(buffer.readableBytesView)
    }

    @Test func requestsEncodeAsNIOEncodesThem() throws {
        for method in Self.methods {
            for version in [HTTPVersion.http1_1, .http1_0] {
                for headers in Self.headerSets {
                    for body in Self.bodies {
                        let head = HTTPRequestHead(
                            version: version, method: method, uri: "/v1/chat/completions?x=1",
                            headers: HTTPHeaders(headers))
                        let parts = Self.parts(head, body)
                        #expect(
                            try Self.reference(parts) == Self.encoded(parts),
                            "\(method) \(version) \(headers) \(body.map(\.readableBytes))")
                    }
                }
            }
        }
    }
}
