import NIOCore
import NIOSSL

/// Limits, timeouts and TLS settings of the forwarding proxy.
public struct ProxyConfiguration: Sendable {
    /// Largest request body forwarded; larger bodies get 413.
    public var maxRequestBodyBytes: Int = 25_000_000
    /// Time allowed to open a connection to an upstream (TCP and TLS handshake).
    public var connectTimeout: TimeAmount = .seconds(10)
    /// Longest time without a byte from the upstream while a request is in flight.
    public var readTimeout: TimeAmount = .seconds(300)
    /// How long a pooled keep-alive upstream connection may stay idle before it is closed.
    public var idleConnectionTimeout: TimeAmount = .seconds(60)
    /// Idle keep-alive connections kept per upstream (scheme, host, port) per event loop.
    public var maxIdleConnectionsPerUpstream: Int = 32
    /// Request and response body bytes copied into each recorded exchange; bytes past this still flow to the
    /// client or upstream but are not recorded.
    public var maxCapturedBodyBytes: Int = 25_000_000
    /// TLS settings for HTTPS upstreams. Certificates are verified and SNI is sent by default.
    public var tls: TLSConfiguration = .makeClientConfiguration()
    /// Extra certificates trusted for HTTPS upstreams, in addition to `tls`'s roots (e.g. a test's self-signed
    /// certificate).
    public var extraTrustRoots: [NIOSSLCertificate] = []

    public init() {}
}
