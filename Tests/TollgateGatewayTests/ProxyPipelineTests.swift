import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import TollgateGateway

/// Pins the gateway's child channel to Hummingbird's own HTTP/1 pipeline: the same handlers in the same order, but
/// NIOHTTP1's request decoder, in whose place is Tollgate's, and NIOHTTP1's response encoder, whose work the proxy
/// handler right after the request decoder takes over (it writes bytes). Fails when a Hummingbird upgrade changes
/// its setup.
@Suite("Proxy pipeline")
struct ProxyPipelineTests {
    static func handlerNames(_ channel: EmbeddedChannel) -> [String] {
        // Each handler line reads "<inbound type> ↓↑ <outbound type> [handlerN]"; one side may be empty.
        channel.pipeline.debugDescription.split(separator: "\n").compactMap { line -> String? in
            guard let marker = line.range(of: "[handler") else { return nil }
            let sides = line[..<marker.lowerBound].components(separatedBy: "↓↑")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return sides.first
        }
    }

    @Test func gatewayPipelineIsHummingbirdsWithTheProxyInPlaceOfTheResponseEncoder() async throws {
        let logger = Logger(label: "tollgate.test")
        let responder: HTTPChannelHandler.Responder = { _, _, _ in }
        let proxy = try ProxyContext(
            providers: .builtIn, directory: GatewayDirectory(), sink: TestSink(), generator: .init(), logger: logger)

        let reference = EmbeddedChannel()
        _ = try await HTTP1Channel(responder: responder).setup(channel: reference, logger: logger).get()
        let gateway = EmbeddedChannel()
        _ = try await GatewayChannel(responder: responder, proxy: proxy).setup(channel: gateway, logger: logger).get()

        let expected = Self.handlerNames(reference)
        let actual = Self.handlerNames(gateway)
        #expect(!expected.isEmpty)
        #expect(expected.contains { $0.contains("HTTPResponseEncoder") })
        // Requests are decoded by NIOHTTP1's decoder there, by Tollgate's here (`RequestDecoder` run by
        // `RequestDecodingHandler`, the same parts).
        let nioDecoder = "ByteToMessageHandler<HTTPDecoder<HTTPPart<HTTPRequestHead"
        let decoder = "RequestDecodingHandler"
        #expect(expected.contains { $0.hasPrefix(nioDecoder) })
        #expect(
            actual.filter { !$0.contains("ProxyHandler") }.map { $0 == decoder ? "decoder" : $0 }
                == expected.filter { !$0.contains("HTTPResponseEncoder") }.map {
                    $0.hasPrefix(nioDecoder) ? "decoder" : $0
                })
        let decoderIndex = try #require(actual.firstIndex { $0 == decoder })
        let proxyIndex = try #require(actual.firstIndex { $0.contains("ProxyHandler") })
        let codecIndex = try #require(actual.firstIndex { $0.contains("HTTP1ToHTTPServerCodec") })
        #expect(decoderIndex + 1 == proxyIndex)
        #expect(proxyIndex + 1 == codecIndex)
    }
}
