import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import TollgateGateway

/// Pins the gateway's child channel to Hummingbird's own HTTP/1 pipeline: the same handlers in the same order, but
/// NIOHTTP1's response encoder, whose work the proxy handler right after the request decoder takes over (it writes
/// bytes). Fails when a Hummingbird upgrade changes its setup.
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
        #expect(
            actual.filter { !$0.contains("ProxyHandler") } == expected.filter { !$0.contains("HTTPResponseEncoder") })
        let proxyIndex = try #require(actual.firstIndex { $0.contains("ProxyHandler") })
        let codecIndex = try #require(actual.firstIndex { $0.contains("HTTP1ToHTTPServerCodec") })
        #expect(proxyIndex + 1 == codecIndex)
        #expect(actual[..<proxyIndex].contains { $0.contains("HTTPDecoder<HTTPPart<HTTPRequestHead") })
    }
}
