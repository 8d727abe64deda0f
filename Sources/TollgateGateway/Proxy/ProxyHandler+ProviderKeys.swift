import NIOCore
import NIOHTTP1
import TollgateModel

/// Provider keys kept by the gateway: on a gateway with `authentication` on, a request whose
/// `cf-aig-authorization` passed and that carries no provider key of its own is forwarded with the account's stored
/// key for its provider, in the header that provider reads. AWS Bedrock's stored key is an AWS access key: the client's
/// own SigV4 signature headers are dropped and the forwarded request, whole, is signed anew (`signForBedrock`).
extension ProxyHandler {
    /// Where a provider takes its key.
    enum ProviderKeyPlacement: Equatable {
        /// `authorization: Bearer {key}` (OpenAI and the OpenAI-compatible providers, Vertex AI, Cohere).
        case bearer
        /// `x-api-key` (Anthropic).
        case xAPIKey
        /// `api-key` (Azure OpenAI).
        case apiKey
        /// `x-goog-api-key` (Google AI Studio).
        case googAPIKey
        /// A SigV4 signature over the whole request (AWS Bedrock), made once its body is collected.
        case sigV4

        func add(_ secret: String, to headers: inout HTTPHeaders) {
            switch self {
            case .bearer: headers.add(name: "authorization", value: "Bearer " + secret)
            case .xAPIKey: headers.add(name: "x-api-key", value: secret)
            case .apiKey: headers.add(name: "api-key", value: secret)
            case .googAPIKey: headers.add(name: "x-goog-api-key", value: secret)
            case .sigV4: break
            }
        }
    }

    /// The AWS access key and region a Bedrock request is signed with, once its body is whole.
    struct AWSSigning {
        var credentials: SigV4.Credentials
        var region: String
        static let service = "bedrock"
    }

    /// The client's SigV4 headers, dropped when the gateway signs with a stored key.
    static let clientSignatureHeaders = ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"]

    /// Whether a header carries a key of the client's own for a provider placed this way: for Bedrock, an
    /// `Authorization` that is a SigV4 signature is not (it is replaced by the gateway's when a key is stored), but
    /// any other (a Bedrock API key as a bearer token) is.
    static func isOwnProviderKey(name: String, value: String, placement: ProviderKeyPlacement?) -> Bool {
        guard isProviderKeyHeader(name) else { return false }
        if placement == .sigV4 && ProxyHeaders.nameEquals(name, "authorization") {
            return !value.hasPrefix(SigV4.algorithm)
        }
        return true
    }

    /// The region a Bedrock path (`/bedrock-runtime/{region}/…`) names.
    static func bedrockRegion(_ path: Substring) -> String? {
        let segments = path.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard segments.count >= 3, segments[1] == "bedrock-runtime", !segments[2].isEmpty else { return nil }
        return String(segments[2])
    }

    /// Signs the head of a Bedrock request for its exact body: `x-amz-date` from the wall clock,
    /// `x-amz-content-sha256` the body's hash, and an `Authorization` over `host`, those two and the session token
    /// when there is one. The body goes with a content length.
    func signForBedrock(_ head: inout HTTPRequestHead, body: ByteBuffer, signing: AWSSigning) {
        let amzDate = SigV4.amzDate(unixMilliseconds: shared.clock.wallMilliseconds())
        let payloadHash = body.withUnsafeReadableBytes { SigV4.payloadHash($0) }
        for name in Self.clientSignatureHeaders { head.headers.remove(name: name) }
        head.headers.remove(name: "transfer-encoding")
        head.headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        var signed: [(name: String, value: String)] = [
            ("host", head.headers.first(name: "host") ?? ""), ("x-amz-content-sha256", payloadHash),
            ("x-amz-date", amzDate),
        ]
        if let token = signing.credentials.sessionToken { signed.append(("x-amz-security-token", token)) }
        let uri = head.uri
        let query = uri.firstIndex(of: "?")
        let signature = SigV4.sign(
            SigV4.Request(
                method: head.method.rawValue, path: String(query.map { uri[..<$0] } ?? uri[...]),
                query: query.map { String(uri[uri.index(after: $0)...]) }, headers: signed, payloadHash: payloadHash),
            scope: SigV4.Scope(amzDate: amzDate, region: signing.region, service: AWSSigning.service),
            credentials: signing.credentials)
        for (name, value) in signed where name != "host" { head.headers.add(name: name, value: value) }
        head.headers.add(name: "authorization", value: signature.authorization)
    }

    /// The headers in which a client sends a provider key of its own.
    static func isProviderKeyHeader(_ name: String) -> Bool {
        ProxyHeaders.nameEquals(name, "authorization") || ProxyHeaders.nameEquals(name, "x-api-key")
            || ProxyHeaders.nameEquals(name, "api-key") || ProxyHeaders.nameEquals(name, "x-goog-api-key")
    }

    /// Where the provider a request names takes its key (`.sigV4` for AWS Bedrock); nil when the gateway does not
    /// put stored keys in its requests.
    func providerKeyPlacement(provider: Substring, target: UpstreamTarget) -> ProviderKeyPlacement? {
        let api: Provider.API?
        if let custom = target.customAPI {
            api = custom.providerAPI
        } else if let builtIn = shared.providers.provider(provider) {
            if builtIn.template == .azureOpenAI { return .apiKey }
            if builtIn.template == .googleVertexAI { return .bearer }
            api = builtIn.api
        } else {
            return nil
        }
        switch api {
        case .anthropic: return .xAPIKey
        case .gemini: return .googAPIKey
        case .bedrock: return .sigV4
        case .openAI, .cohere, nil: return .bearer
        }
    }

    /// Whether a query string carries a Gemini-style `key=` parameter.
    static func queryHasKey(_ query: Substring?) -> Bool {
        guard let query else { return false }
        return query.split(separator: "&").contains { $0.hasPrefix("key=") }
    }
}
