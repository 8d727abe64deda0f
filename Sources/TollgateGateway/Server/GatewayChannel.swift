import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The child channel of the gateway's one HTTP port: `/v1/…` is proxied by SwiftNIO handlers on NIOHTTP1 parts,
/// everything else goes to the Hummingbird responder (the REST API).
///
/// The pipeline mirrors Hummingbird's `HTTP1Channel` with the proxy handler inserted right after NIOHTTP1's server
/// codec: HTTP/1 codec → `ProxyHandler` → `HTTP1ToHTTPServerCodec` → additional handlers →
/// `HTTPConnectionStateHandler` → async channel.
public struct GatewayChannel: ServerChildChannel, HTTPChannelHandler {
    public typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    public let responder: HTTPChannelHandler.Responder
    public let proxy: ProxyContext
    /// Hummingbird's HTTP/1 settings (decoder limits, extra handlers). `idleTimeout` is not used: Hummingbird's
    /// connection handler cannot see proxied exchanges and would close long streams.
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
            try sync.configureHTTPServerPipeline(
                withPipeliningAssistance: false,  // ProxyHandler orders pipelined responses itself
                withErrorHandling: false,  // Hummingbird answers parse errors
                withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: limits
            )
            try sync.addHandler(ProxyHandler(shared: proxy, pool: proxy.pool(for: channel.eventLoop)))
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
