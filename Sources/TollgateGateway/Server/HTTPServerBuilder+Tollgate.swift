import HummingbirdCore

extension HTTPServerBuilder {
    /// The gateway's HTTP/1 server: `/v1/…` on the proxy's SwiftNIO handlers, everything else on the
    /// application's router, one port.
    ///
    /// ```swift
    /// let app = Application(router: router, server: .tollgate(proxy: context), configuration: …)
    /// ```
    public static func tollgate(
        proxy: ProxyContext,
        configuration: HTTP1Channel.Configuration = .init()
    ) -> HTTPServerBuilder {
        .init { responder in
            GatewayChannel(responder: responder, proxy: proxy, configuration: configuration)
        }
    }
}
