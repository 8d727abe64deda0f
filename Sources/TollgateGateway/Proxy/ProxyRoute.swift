/// The parts of a gateway request URI: `/v1/{account}/{gateway}/{provider}/{rest…}?{query}`.
struct ProxyRoute {
    var account: Substring
    var gateway: Substring
    var provider: Substring
    /// The forwarded path, starting with `/` (just `/` when nothing follows the provider).
    var path: Substring
    /// The raw query string without `?`, or nil.
    var query: Substring?

    init(account: Substring, gateway: Substring, provider: Substring, path: Substring, query: Substring?) {
        self.account = account
        self.gateway = gateway
        self.provider = provider
        self.path = path
        self.query = query
    }

    /// The universal endpoint's account and gateway: `/v1/{account}/{gateway}` (a trailing slash allowed, no query).
    static func universal(uri: String) -> (account: Substring, gateway: Substring)? {
        guard isProxyURI(uri) else { return nil }
        var rest = uri.dropFirst(4)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
            !rest.contains(where: { $0 == "?" || $0 == "#" })
        else { return nil }
        return (parts[0], parts[1])
    }

    /// Whether a request URI belongs to the proxy rather than the REST API.
    static func isProxyURI(_ uri: String) -> Bool {
        uri.utf8.starts(with: "/v1/".utf8)
    }

    /// Nil when the URI does not name account, gateway and provider. Scans UTF-8 code units (the separators are
    /// ASCII), which is much cheaper than walking characters.
    init?(uri: String) {
        guard Self.isProxyURI(uri) else { return nil }
        let utf8 = uri.utf8
        var end = utf8.endIndex
        if let hash = utf8.firstIndex(of: UInt8(ascii: "#")) { end = hash }
        var pathEnd = end
        query = nil
        if let q = utf8[..<end].firstIndex(of: UInt8(ascii: "?")) {
            pathEnd = q
            query = uri[utf8.index(after: q)..<end]
        }
        var cursor = utf8.index(utf8.startIndex, offsetBy: 4)
        var segments: [Substring] = []
        segments.reserveCapacity(3)
        var rest: Substring = ""
        while segments.count < 3 {
            guard let slash = utf8[cursor..<pathEnd].firstIndex(of: UInt8(ascii: "/")) else {
                segments.append(uri[cursor..<pathEnd])
                cursor = pathEnd
                break
            }
            segments.append(uri[cursor..<slash])
            // The provider's slash starts the forwarded path; the others only separate segments.
            cursor = segments.count == 3 ? slash : utf8.index(after: slash)
        }
        rest = uri[cursor..<pathEnd]
        guard segments.count == 3, segments.allSatisfy({ !$0.isEmpty }) else { return nil }
        account = segments[0]
        gateway = segments[1]
        provider = segments[2]
        path = rest.isEmpty ? "/" : rest
    }
}
