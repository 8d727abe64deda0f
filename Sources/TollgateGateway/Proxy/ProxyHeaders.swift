import NIOHTTP1

/// Header rules of the proxy: which names are hop-by-hop, which are the gateway's own.
enum ProxyHeaders {
    /// Whether `name` is hop-by-hop (RFC 9110 §7.6.1) and must not be forwarded.
    static func isHopByHop(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { b in
            switch b.count {
            case 2: return equalsLowercase(b, "te")
            case 7: return equalsLowercase(b, "trailer") || equalsLowercase(b, "upgrade")
            case 10: return equalsLowercase(b, "connection") || equalsLowercase(b, "keep-alive")
            case 17: return equalsLowercase(b, "transfer-encoding")
            default: return b.count > 6 && startsWithLowercase(b, "proxy-")
            }
        }
    }

    /// Whether `name` is one of the gateway's own `cf-aig-*` headers.
    static func isGatewayHeader(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { b in b.count >= 7 && startsWithLowercase(b, "cf-aig-") }
    }

    static func isConnection(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { b in b.count == 10 && equalsLowercase(b, "connection") }
    }

    static func isHost(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { b in b.count == 4 && equalsLowercase(b, "host") }
    }

    /// Whether `name` equals a lowercase literal, ignoring ASCII case.
    static func nameEquals(_ name: String, _ header: GatewayHeader) -> Bool {
        nameEquals(name, header.literal)
    }

    static func nameEquals(_ name: String, _ literal: StaticString) -> Bool {
        var name = name
        return name.withUTF8 { equalsLowercase($0, literal) }
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
