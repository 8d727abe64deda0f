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
        // Four bytes compared in place: `utf8.starts(with:)` walks two generic iterators (≈350 instructions).
        uri.utf8.count >= 4
            && ProxyHeaders.withBytes(uri) { b in
                b[0] == UInt8(ascii: "/") && b[1] == UInt8(ascii: "v") && b[2] == UInt8(ascii: "1")
                    && b[3] == UInt8(ascii: "/")
            }
    }

    /// Nil when the URI does not name account, gateway and provider. One pass over the URI's bytes finds the
    /// separators (all ASCII); the parts are then cut out of the URI.
    init?(uri: String) {
        guard Self.isProxyURI(uri) else { return nil }
        var bytes = uri
        // `end`: the first `#` or the end; `question`: the first `?` before it; the first three slashes of the path.
        let found = bytes.withUTF8 { b -> (end: Int, question: Int?, first: Int, second: Int, third: Int?)? in
            var end = b.count
            var question: Int?
            var first = -1
            var second = -1
            var third = -1
            var i = 4
            while i < end {
                switch b[i] {
                case UInt8(ascii: "#"):
                    end = i
                case UInt8(ascii: "?") where question == nil:
                    question = i
                case UInt8(ascii: "/") where question == nil:
                    if first < 0 {
                        first = i
                    } else if second < 0 {
                        second = i
                    } else if third < 0 {
                        third = i
                    }
                default:
                    break
                }
                i += 1
            }
            // Account and gateway need a slash after each; the provider runs to the third slash or the path's end.
            guard first >= 0, second >= 0 else { return nil }
            return (end, question, first, second, third >= 0 ? third : nil)
        }
        guard let found else { return nil }
        let utf8 = uri.utf8
        func at(_ offset: Int) -> String.Index { utf8.index(utf8.startIndex, offsetBy: offset) }
        let pathEnd = found.question ?? found.end
        query = found.question.map { uri[at($0 + 1)..<at(found.end)] }
        let providerEnd = found.third ?? pathEnd
        account = uri[at(4)..<at(found.first)]
        gateway = uri[at(found.first + 1)..<at(found.second)]
        provider = uri[at(found.second + 1)..<at(providerEnd)]
        guard !account.isEmpty, !gateway.isEmpty, !provider.isEmpty else { return nil }
        let rest = uri[at(providerEnd)..<at(pathEnd)]
        path = rest.isEmpty ? "/" : rest
    }
}
