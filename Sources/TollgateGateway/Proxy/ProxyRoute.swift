/// The parts of a gateway request URI: `/v1/{account}/{gateway}/{provider}/{rest…}?{query}`.
struct ProxyRoute {
    var account: Substring
    var gateway: Substring
    var provider: Substring
    /// The forwarded path, starting with `/` (just `/` when nothing follows the provider).
    var path: Substring
    /// The raw query string without `?`, or nil.
    var query: Substring?

    /// Whether a request URI belongs to the proxy rather than the REST API.
    static func isProxyURI(_ uri: String) -> Bool {
        uri.utf8.starts(with: "/v1/".utf8)
    }

    /// Nil when the URI does not name account, gateway and provider.
    init?(uri: String) {
        guard Self.isProxyURI(uri) else { return nil }
        var target = uri.dropFirst(4)[...]
        if let hash = target.firstIndex(of: "#") { target = target[..<hash] }
        var pathPart = target
        query = nil
        if let q = target.firstIndex(of: "?") {
            pathPart = target[..<q]
            query = target[target.index(after: q)...]
        }
        var segments: [Substring] = []
        var rest = pathPart
        for _ in 0..<3 {
            guard let slash = rest.firstIndex(of: "/") else {
                segments.append(rest)
                rest = rest[rest.endIndex...]
                break
            }
            segments.append(rest[..<slash])
            rest = rest[slash...]
        }
        guard segments.count == 3, segments.allSatisfy({ !$0.isEmpty }) else { return nil }
        account = segments[0]
        gateway = segments[1]
        provider = segments[2]
        path = rest.isEmpty ? "/" : rest
    }
}
