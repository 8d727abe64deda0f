import NIOHTTP1
import TollgateModel

/// Provider keys kept by the gateway: on a gateway with `authentication` on, a request whose
/// `cf-aig-authorization` passed and that carries no provider key of its own is forwarded with the account's stored
/// key for its provider, in the header that provider reads.
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

        func add(_ secret: String, to headers: inout HTTPHeaders) {
            switch self {
            case .bearer: headers.add(name: "authorization", value: "Bearer " + secret)
            case .xAPIKey: headers.add(name: "x-api-key", value: secret)
            case .apiKey: headers.add(name: "api-key", value: secret)
            case .googAPIKey: headers.add(name: "x-goog-api-key", value: secret)
            }
        }
    }

    /// The headers in which a client sends a provider key of its own.
    static func isProviderKeyHeader(_ name: String) -> Bool {
        ProxyHeaders.nameEquals(name, "authorization") || ProxyHeaders.nameEquals(name, "x-api-key")
            || ProxyHeaders.nameEquals(name, "api-key") || ProxyHeaders.nameEquals(name, "x-goog-api-key")
    }

    /// Where the provider a request names takes its key; nil when the gateway does not put stored keys in its
    /// requests (AWS Bedrock, whose requests are signed with SigV4).
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
        case .bedrock: return nil
        case .openAI, .cohere, nil: return .bearer
        }
    }

    /// Whether a query string carries a Gemini-style `key=` parameter.
    static func queryHasKey(_ query: Substring?) -> Bool {
        guard let query else { return false }
        return query.split(separator: "&").contains { $0.hasPrefix("key=") }
    }
}
