import NIOHTTP1
import NIOPosix

/// An error of the forwarding proxy: why an exchange failed at the gateway.
///
/// The description is what the exchange records as its `error`; it never carries bodies or header values.
public struct ProxyError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Code: Sendable, Equatable {
        case upstreamUnreachable
        case upstreamTimeout
        case requestTimeout
        case upstreamClosed
        case upstreamProtocol
        case clientDisconnected
        case requestTooLarge
        case shuttingDown
        case invalidConfiguration
    }

    let code: Code
    /// A short, secret-free explanation.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Whether an upstream could not be reached at all.
    public var isUpstreamUnreachable: Bool { code == .upstreamUnreachable }
    /// Whether the upstream stopped sending within the timeout.
    public var isTimeout: Bool { code == .upstreamTimeout || code == .requestTimeout }

    public var description: String { message }

    static func unreachable(_ detail: String) -> ProxyError {
        ProxyError(.upstreamUnreachable, "upstream unreachable: \(detail)")
    }
    static let connectTimeout = ProxyError(.upstreamTimeout, "upstream connect timeout")
    static let readTimeout = ProxyError(.upstreamTimeout, "upstream read timeout")
    static let requestTimeout = ProxyError(.requestTimeout, "no response from the upstream within the request timeout")
    static let closedBeforeResponse = ProxyError(.upstreamClosed, "upstream closed the connection before responding")
    static let closedMidStream = ProxyError(.upstreamClosed, "upstream closed the connection mid-stream")
    static func protocolError(_ detail: String) -> ProxyError {
        ProxyError(.upstreamProtocol, "upstream protocol error: \(detail)")
    }
    static let clientDisconnected = ProxyError(.clientDisconnected, "client disconnected before the response ended")
    static let requestTooLarge = ProxyError(.requestTooLarge, "request body exceeds the size limit")
    static let shuttingDown = ProxyError(.shuttingDown, "gateway shutting down")

    /// Why an attached upstream connection went away: closed plainly (`cause` nil) or failed. Mid-stream, the parser
    /// seeing EOF too soon is a plain close as well.
    static func closed(by cause: (any Error)?, midStream: Bool) -> ProxyError {
        guard let cause else { return midStream ? .closedMidStream : .closedBeforeResponse }
        if midStream {
            if let parserError = cause as? HTTPParserError, parserError == .invalidEOFState { return .closedMidStream }
            return .protocolError(describe(cause))
        }
        return .unreachable(describe(cause))
    }

    /// A secret-free description of a connection error.
    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return "\(first.error)" }
            if let dns = error.dnsAAAAError ?? error.dnsAError { return "name resolution failed: \(dns)" }
            return "connection failed"
        }
        return "\(error)"
    }
}
