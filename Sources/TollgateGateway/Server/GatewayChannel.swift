import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The child channel of the gateway's one HTTP port: `/v1/…` is proxied by SwiftNIO handlers on NIOHTTP1 parts,
/// everything else goes to the Hummingbird responder (the REST API).
///
/// The pipeline mirrors Hummingbird's `HTTP1Channel` with Tollgate's request decoder (`RequestDecoder`) in place of
/// NIOHTTP1's and the proxy handler in place of NIOHTTP1's response encoder: request decoder → `ProxyHandler` →
/// `HTTP1ToHTTPServerCodec` → additional handlers → `HTTPConnectionStateHandler` → async channel. `ProxyHandler` encodes every response itself
/// (`ResponseEncoder`, the same bytes as NIOHTTP1's encoder), so the proxy writes its responses as bytes.
public struct GatewayChannel: ServerChildChannel, HTTPChannelHandler {
    public typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    public let responder: HTTPChannelHandler.Responder
    public let proxy: ProxyContext
    /// Hummingbird's HTTP/1 settings (decoder limits, extra handlers, idle timeout). The idle timeout is kept by
    /// the proxy handler, which sees both paths, so a long proxied stream is never taken for an idle connection.
    public let configuration: HTTP1Channel.Configuration

    public init(
        responder: @escaping HTTPChannelHandler.Responder,
        proxy: ProxyContext,
        configuration: HTTP1Channel.Configuration = .init()
    ) {
        self.responder = responder
        self.proxy = proxy
        self.configuration = configuration
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = configuration.httpDecoder.maxHeaderFieldSize
            limits.maxHeaderListSize = configuration.httpDecoder.maxHeaderListSize
            limits.maxHeaderFieldCount = configuration.httpDecoder.maxHeaderFieldCount
            let sync = channel.pipeline.syncOperations
            // NIOHTTP1's server pipeline with Tollgate's request decoder (the same parts and errors as NIOHTTP1's) and
            // without its response encoder (`ProxyHandler` encodes responses and tells
            // its encoder each request's method); no pipelining assistance (`ProxyHandler` orders pipelined
            // responses itself), no error handler (Hummingbird answers parse errors), no outbound header validation.
            let proxyHandler = ProxyHandler(
                shared: proxy, pool: proxy.pool(for: channel.eventLoop), idleTimeout: configuration.idleTimeout)
            var decoder = RequestDecoder(limits: limits)
            // Right after the decoder's handler: the decoder hands the parts to it directly.
            decoder.receiver = proxyHandler
            try sync.addHandler(RequestDecodingHandler(decoder))
            try sync.addHandler(proxyHandler)
            try sync.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try sync.addHandlers(configuration.additionalChannelHandlers())
            try sync.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(
                wrappingChannelSynchronously: channel,
                configuration: .init(isOutboundHalfClosureEnabled: true)
            )
        }
    }

    public func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
