import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Header rules of the proxy: which names are hop-by-hop, which are the gateway's own.
enum ProxyHeaders {
    /// Whether `name` is hop-by-hop (RFC 9110 §7.6.1) and must not be forwarded.
    static func isHopByHop(_ name: String) -> Bool {
        switch name.utf8.count {
        case 2, 7, 10, 17: break
        case 0...6: return false
        default: break
        }
        return withBytes(name) { isHopByHop($0) }
    }

    /// The same for a name's bytes.
    static func isHopByHop(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        switch name.count {
        case 2: return equalsLowercase(name, "te")
        case 7: return equalsLowercase(name, "trailer") || equalsLowercase(name, "upgrade")
        case 10: return equalsLowercase(name, "connection") || equalsLowercase(name, "keep-alive")
        case 17: return equalsLowercase(name, "transfer-encoding")
        default: return name.count > 6 && startsWithLowercase(name, "proxy-")
        }
    }

    /// Whether `name` is one of the gateway's own `cf-aig-*` headers.
    static func isGatewayHeader(_ name: String) -> Bool {
        name.utf8.count >= 7 && withBytes(name) { b in startsWithLowercase(b, "cf-aig-") }
    }

    static func isConnection(_ name: String) -> Bool {
        name.utf8.count == 10 && withBytes(name) { b in equalsLowercase(b, "connection") }
    }

    static func isHost(_ name: String) -> Bool {
        name.utf8.count == 4 && withBytes(name) { b in equalsLowercase(b, "host") }
    }

    /// Whether a string and a substring have the same bytes.
    static func bytesEqual(_ string: String, _ substring: Substring) -> Bool {
        guard string.utf8.count == substring.utf8.count else { return false }
        let equal = substring.utf8.withContiguousStorageIfAvailable { b in
            withBytes(string) { a in
                for i in 0..<a.count where a[i] != b[i] { return false }
                return true
            }
        }
        return equal ?? string.utf8.elementsEqual(substring.utf8)
    }

    /// Calls `body` with the string's UTF-8 bytes, without copying a native string.
    @inline(__always)
    static func withBytes<R>(_ string: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = string.utf8.withContiguousStorageIfAvailable(body) { return result }
        var string = string
        return string.withUTF8(body)
    }

    /// Whether `name` equals a lowercase literal, ignoring ASCII case.
    static func nameEquals(_ name: String, _ header: GatewayHeader) -> Bool {
        nameEquals(name, header.literal)
    }

    static func nameEquals(_ name: String, _ literal: StaticString) -> Bool {
        name.utf8.count == literal.utf8CodeUnitCount && withBytes(name) { equalsLowercase($0, literal) }
    }

    /// Whether a message with no `Connection` header keeps its connection alive: HTTP/1.1 and later 1.x (NIO's
    /// `isKeepAlive` rule when it finds no `close` or `keep-alive` token).
    private static func keepsAliveByDefault(_ version: HTTPVersion) -> Bool {
        version.major == 1 && version.minor >= 1
    }

    /// `head.isKeepAlive`, without NIO's lookup of `Connection` values (a pass over every header, splitting the
    /// values of those it finds) when the head is known to have no `Connection` header, the usual case.
    static func isKeepAlive(_ head: HTTPResponseHead, connectionHeader: Bool) -> Bool {
        connectionHeader ? head.isKeepAlive : keepsAliveByDefault(head.version)
    }

    /// The same for an upstream's response head.
    static func isKeepAlive(_ head: UpstreamResponseHead, connectionHeader: Bool) -> Bool {
        connectionHeader ? head.nioHead.isKeepAlive : keepsAliveByDefault(head.version)
    }

    /// The same for a request head.
    static func isKeepAlive(_ head: HTTPRequestHead, connectionHeader: Bool) -> Bool {
        connectionHeader ? head.isKeepAlive : keepsAliveByDefault(head.version)
    }

    /// The extra names a `Connection` header lists (beyond `close` / `keep-alive`), lowercased.
    static func connectionTokens(_ headers: HTTPHeaders) -> [String] {
        // Most messages have no `Connection` header (HTTP/1.1 keeps alive by default): one pass over the names, no
        // allocation.
        guard headers.contains(where: { isConnection($0.name) }) else { return [] }
        var tokens: [String] = []
        for value in headers[canonicalForm: "connection"] {
            let token = value.lowercased()
            if token != "close" && token != "keep-alive" && !token.isEmpty { tokens.append(token) }
        }
        return tokens
    }

    /// Compares ASCII bytes case-insensitively with a lowercase literal.
    @inline(__always)
    static func equalsLowercase(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        bytes.count == literal.utf8CodeUnitCount && startsWithLowercase(bytes, literal)
    }

    @inline(__always)
    static func startsWithLowercase(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard bytes.count >= n else { return false }
        let l = literal.utf8Start
        // `| 0x20` lowercases ASCII letters and leaves '-' and digits as they are.
        for i in 0..<n where bytes[i] | 0x20 != l[i] { return false }
        return true
    }

    /// Whether a header should be dropped when forwarding: hop-by-hop, listed in `Connection`, or the gateway's own.
    static func dropsOnForward(_ name: String, listed: [String]) -> Bool {
        if isHopByHop(name) || isGatewayHeader(name) { return true }
        if listed.isEmpty { return false }
        let lower = name.lowercased()
        return listed.contains(lower)
    }
}
