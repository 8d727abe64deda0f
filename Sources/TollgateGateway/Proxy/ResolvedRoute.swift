/// A proxy request URI resolved to what forwarding it needs: its parts, the gateway's directory entry, the
/// provider's upstream and the path sent there, and the parts as the exchange's strings.
///
/// A keep-alive client sends the same URI request after request, so a connection keeps the last one it resolved
/// (`ProxyHandler.lastRoute`) and takes it again for an equal URI while neither directory it was read from has
/// changed since (their `generation`s): the URI is not parsed again, the directories not searched again, the strings
/// not made again. Only what a URI always resolves to is kept; a gateway's token check runs for every request.
/// A class: taking it again is one reference counted, not a copy of each of its strings.
final class ResolvedRoute {
    let uri: String
    let route: ProxyRoute
    let entry: GatewayDirectory.Entry
    let target: UpstreamTarget
    let upstreamPath: String
    let names: RouteNames
    /// The directories' generations when they were read.
    let gateways: UInt64
    let customProviders: UInt64

    init(
        uri: String, route: ProxyRoute, entry: GatewayDirectory.Entry, target: UpstreamTarget, upstreamPath: String,
        names: RouteNames, gateways: UInt64, customProviders: UInt64
    ) {
        self.uri = uri
        self.route = route
        self.entry = entry
        self.target = target
        self.upstreamPath = upstreamPath
        self.names = names
        self.gateways = gateways
        self.customProviders = customProviders
    }

    /// Whether this still holds for a request with `uri`.
    func answers(_ uri: String, in directory: GatewayDirectory) -> Bool {
        self.uri == uri && gateways == directory.generation
            && customProviders == directory.customProviders.generation
    }
}

/// A route's account, gateway, provider, forwarded path and query as the strings an exchange keeps.
///
/// A struct rather than a tuple: a tuple is copied and destroyed through the runtime's generic tuple witnesses (about
/// 160 instructions a copy), a struct through code made for it. Handed on unwrapped: an optional of it would go
/// through `Optional`'s generic witness again.
struct RouteNames {
    var account: String
    var gateway: String
    var provider: String
    var path: String
    var query: String?
}

extension ProxyRoute {
    /// The parts as the strings an exchange keeps.
    var names: RouteNames {
        RouteNames(
            account: String(account), gateway: String(gateway), provider: String(provider), path: String(path),
            query: query.map(String.init))
    }
}
