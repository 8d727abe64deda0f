import TollgateModel
import TollgateStorage

/// A provider's base URL taken apart once, at start-up: where to connect and what to put before the forwarded path.
struct UpstreamTarget: Sendable, Hashable {
    /// Where connections go; pooled connections are shared per endpoint.
    struct Endpoint: Sendable, Hashable {
        var host: String
        var port: Int
        var tls: Bool
    }

    var endpoint: Endpoint
    /// The `Host` header value: host, plus the port when it is not the scheme's default.
    var hostHeader: String
    /// Path of the base URL without a trailing slash, e.g. `/v1`, or empty.
    var basePath: String
    /// The provider's `Provider.streamUsagePaths`: forwarded paths whose streaming requests get
    /// `stream_options.include_usage` added.
    var streamUsagePaths: [String] = []
    /// A templated provider's target before a request path fills it in (`resolved(_:account:)`); nil for a fixed base
    /// URL and for a resolved target.
    var template: ProviderTemplate?
    /// For a templated provider: `endpoint` and `basePath` come from an `--upstream` URL that replaces the scheme,
    /// host and port the template names (the `Host` header stays the provider's).
    var overridden = false
    /// For `workers-ai`: the Cloudflare account every request goes to, in place of the gateway path's
    /// (`Provider.templateAccount`).
    var templateAccount: String?
    /// For an account's custom provider: the API it declared, which decides how its usage is read (`none`: not
    /// read). nil for a built-in provider.
    var customAPI: CustomProviderRecord.API?

    /// A templated provider's target: the hosts its template names over HTTPS, or, when `baseURL` is not empty,
    /// that URL's scheme, host, port and path before the mapped path. Nil when `baseURL` is not a usable URL.
    init?(template: ProviderTemplate, baseURL: String) {
        if baseURL.isEmpty {
            self.endpoint = Endpoint(host: "", port: 443, tls: true)
            self.hostHeader = ""
            self.basePath = ""
        } else {
            guard let base = UpstreamTarget(baseURL: baseURL) else { return nil }
            self = base
            self.overridden = true
        }
        self.template = template
    }

    /// Where a templated provider's request goes: the target (endpoint per host, so each Azure resource or region
    /// has its own pooled connections) and the upstream path without the query. `account` is the gateway path's
    /// account, which Workers AI's upstream path holds unless `templateAccount` names one. Throws, naming what is
    /// missing, when the path does not fill the template. A target without a template is returned as it is, the path
    /// after its base path.
    func resolved(
        _ path: Substring, account: Substring
    ) throws(ProviderTemplate.Failure) -> (target: UpstreamTarget, path: String) {
        guard let template else { return (self, basePath + path) }
        let mapping = try template.map(path, account: templateAccount.map { Substring($0) } ?? account)
        var target = self
        target.template = nil
        target.hostHeader = mapping.host
        if !overridden { target.endpoint = Endpoint(host: mapping.host, port: 443, tls: true) }
        return (target, basePath + mapping.path)
    }

    /// Parses `http[s]://host[:port][/path]`; IPv6 literals in brackets are accepted. Nil for anything else.
    init?(baseURL: String) {
        let tls: Bool
        var rest: Substring
        if baseURL.hasPrefix("https://") {
            tls = true
            rest = baseURL.dropFirst(8)
        } else if baseURL.hasPrefix("http://") {
            tls = false
            rest = baseURL.dropFirst(7)
        } else {
            return nil
        }
        let authority: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            rest = rest[slash...]
        } else {
            authority = rest
            rest = ""
        }
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var host: Substring
        var port = tls ? 443 : 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { return nil }
                port = p
            } else if !after.isEmpty {
                return nil
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
        } else {
            host = authority
        }
        guard !host.isEmpty else { return nil }
        var path = rest
        if let q = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<q] }
        while path.hasSuffix("/") { path = path.dropLast() }
        self.endpoint = Endpoint(host: String(host), port: port, tls: tls)
        self.basePath = String(path)
        let defaultPort = tls ? 443 : 80
        let hostText = authority.hasPrefix("[") ? "[\(host)]" : String(host)
        self.hostHeader = port == defaultPort ? hostText : "\(hostText):\(port)"
    }

    /// Whether the host is an IP address literal (no SNI is sent for those).
    var hostIsIPAddress: Bool {
        let h = endpoint.host
        if h.contains(":") { return true }
        return h.split(separator: ".", omittingEmptySubsequences: false).count == 4
            && h.utf8.allSatisfy { $0 == UInt8(ascii: ".") || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) }
    }
}
