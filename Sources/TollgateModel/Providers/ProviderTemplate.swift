/// How a templated provider's upstream URL is filled in from the request path: for these providers the path after the
/// slug names the host (an Azure resource, a Google Cloud or AWS region) as well as the upstream path, so there is no
/// single base URL.
///
/// The shapes are Cloudflare AI Gateway's, checked on 2026-12-03 against its provider pages and the providers' own
/// references:
/// - `azure-openai` (developers.cloudflare.com/ai-gateway/providers/azureopenai): the base URL is
///   `…/azure-openai/{resource}/{deployment}`, to which the client appends its endpoint and `api-version`, e.g.
///   `…/chat/completions?api-version=2023-05-15`, with the key in `api-key`. It goes to
///   `https://{resource}.openai.azure.com/openai/deployments/{deployment}/{path}`. The deployment is a name the
///   account chose, not the model, so the record takes the model from the response (`prefersResponseModel`).
/// - `google-vertex-ai` (developers.cloudflare.com/ai-gateway/usage/providers/vertex): the base URL is
///   `…/google-vertex-ai/v1/projects/{project}/locations/{region}`, then the endpoint, e.g.
///   `/publishers/google/models/gemini-2.5-flash:generateContent`. It goes to
///   `https://{region}-aiplatform.googleapis.com` with the path unchanged; the `global` location is served by
///   `https://aiplatform.googleapis.com` (Vertex AI "Locations": "exclude the location from the endpoint name").
///   Anthropic models are called at `…/publishers/anthropic/models/{model}:rawPredict` / `:streamRawPredict` with an
///   Anthropic messages body that has no `model` (docs.anthropic.com/en/api/claude-on-vertex-ai: "model is not
///   passed in the request body … it is specified in the Google Cloud endpoint URL"), so the model comes from the
///   path.
/// - `aws-bedrock` (developers.cloudflare.com/ai-gateway/usage/providers/bedrock): "replace
///   `https://bedrock-runtime.us-east-1.amazonaws.com/` … with `…/aws-bedrock/bedrock-runtime/us-east-1/`", so
///   `/bedrock-runtime/{region}/model/{modelId}/{converse|converse-stream|invoke|invoke-with-response-stream}` goes to
///   `https://bedrock-runtime.{region}.amazonaws.com/model/{modelId}/…`. The client signs its request (SigV4) for
///   that host, so the gateway sends it as the `Host` and forwards the path bytes as they came.
/// - `workers-ai` (developers.cloudflare.com/ai-gateway/usage/providers/workersai, read on 2026-12-03 as
///   cloudflare/cloudflare-docs `src/content/docs/ai-gateway/usage/providers/workersai.mdx`): "Previous:
///   `https://api.cloudflare.com/client/v4/accounts/{account_id}/ai/run/{model_id}` … New:
///   `https://gateway.ai.cloudflare.com/v1/{account_id}/{gateway_id}/workers-ai/{model_id}`", e.g.
///   `…/workers-ai/@cf/meta/llama-3.1-8b-instruct`; its OpenAI-compatible example posts to
///   `…/workers-ai/v1/chat/completions` with the model in the body, which Workers AI serves at
///   `…/accounts/{account_id}/ai/v1/chat/completions` (developers.cloudflare.com/workers-ai/configuration/
///   open-ai-compatibility). The Cloudflare account id is the gateway path's own `{account}`, as in Cloudflare's
///   URL: a Tollgate account named by the Cloudflare account id takes Cloudflare's gateway URL with only the host
///   changed (`serve --workers-ai-account` names one Cloudflare account for every Tollgate account instead). So
///   `/{model}` goes to `https://api.cloudflare.com/client/v4/accounts/{account}/ai/run/{model}` and `/v1/{path}` to
///   `…/accounts/{account}/ai/v1/{path}`. The REST run names its model only in the path, so the record takes it
///   from there. The REST answer is an envelope
///   `{"result": {"response": …, "usage": {"prompt_tokens", "completion_tokens", "total_tokens"}}, "success": …}`
///   (developers.cloudflare.com/workers-ai/get-started/rest-api); the Cloudflare API token comes as
///   `Authorization: Bearer` and is forwarded as it came.
public enum ProviderTemplate: String, Sendable, Equatable, CaseIterable {
    case azureOpenAI = "azure-openai"
    case googleVertexAI = "google-vertex-ai"
    case awsBedrock = "aws-bedrock"
    case workersAI = "workers-ai"

    /// Where one request goes.
    public struct Mapping: Sendable, Equatable {
        /// The provider's host for this request, e.g. `my-resource.openai.azure.com`.
        public var host: String
        /// The upstream path, starting with `/`, without the query, e.g. `/openai/deployments/gpt4o/chat/completions`.
        public var path: String

        public init(host: String, path: String) {
            self.host = host
            self.path = path
        }
    }

    /// A request path that does not fill the template; `message` names what is missing.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }

        init(_ message: String) { self.message = message }
    }

    /// The path shape clients use, for error messages and documentation.
    public var pathShape: String {
        switch self {
        case .azureOpenAI: "/{resource}/{deployment}/{path}?api-version=…"
        case .googleVertexAI: "/v1/projects/{project}/locations/{region}/publishers/{publisher}/models/{model}:{method}"
        case .awsBedrock: "/bedrock-runtime/{region}/model/{modelId}/{converse|converse-stream|invoke|…}"
        case .workersAI: "/{model} (e.g. /@cf/meta/llama-3.1-8b-instruct) or /v1/{path} (OpenAI-compatible)"
        }
    }

    /// Whether the record takes the response's model before the request's (Azure: a request's `model`, when an SDK
    /// sends one, is the deployment name).
    public var prefersResponseModel: Bool { self == .azureOpenAI }

    /// Whether the model the path names (`model(inPath:)`) comes before the body's: Workers AI runs the model of
    /// `ai/run/{model}` whatever the body says.
    public var prefersPathModel: Bool { self == .workersAI }

    /// Maps the forwarded path (what follows the provider slug, starting with `/`, no query) to the provider's host
    /// and path. `account` is the gateway path's `{account}` segment, which Workers AI's upstream path holds (the
    /// other templates ignore it). Throws, naming the first missing or malformed part, when the path does not fill
    /// the template.
    public func map(_ path: Substring, account: Substring = "") throws(Failure) -> Mapping {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var parts = segments.makeIterator()
        func next() -> Substring? {
            guard let part = parts.next(), !part.isEmpty else { return nil }
            return part
        }
        switch self {
        case .azureOpenAI:
            guard let resource = next() else { throw missing("the resource") }
            guard Self.isHostLabel(resource) else { throw malformed("resource", resource) }
            guard let deployment = next() else { throw missing("the deployment") }
            guard Self.isName(deployment) else { throw malformed("deployment", deployment) }
            let rest = Self.rest(path, after: 2)
            guard rest.count > 1 else { throw missing("the API path after the deployment") }
            return Mapping(host: "\(resource).openai.azure.com", path: "/openai/deployments/\(deployment)\(rest)")
        case .googleVertexAI:
            guard let version = next() else { throw missing("the API version") }
            guard Self.isName(version) else { throw malformed("API version", version) }
            guard next() == "projects" else { throw missing("projects/") }
            guard let project = next() else { throw missing("the project") }
            guard Self.isName(project) else { throw malformed("project", project) }
            guard next() == "locations" else { throw missing("locations/") }
            guard let region = next() else { throw missing("the region") }
            guard Self.isHostLabel(region) else { throw malformed("region", region) }
            if let publishers = next() {
                if publishers == "publishers" {
                    guard let publisher = next() else { throw missing("the publisher") }
                    guard Self.isName(publisher) else { throw malformed("publisher", publisher) }
                    guard next() == "models" else { throw missing("models/") }
                    guard let call = next() else { throw missing("the model") }
                    guard let colon = call.firstIndex(of: ":"), colon != call.startIndex else {
                        throw missing("the model")
                    }
                    guard call.index(after: colon) != call.endIndex else { throw missing("the method after the model") }
                }
            } else {
                throw missing("the endpoint after the region")
            }
            let host = region == "global" ? "aiplatform.googleapis.com" : "\(region)-aiplatform.googleapis.com"
            return Mapping(host: host, path: String(path))
        case .awsBedrock:
            guard next() == "bedrock-runtime" else { throw missing("bedrock-runtime/") }
            guard let region = next() else { throw missing("the region") }
            guard Self.isHostLabel(region) else { throw malformed("region", region) }
            let rest = Self.rest(path, after: 2)
            guard rest.count > 1 else { throw missing("the API path after the region") }
            if next() == "model" {
                guard next() != nil else { throw missing("the model id") }
                guard next() != nil else { throw missing("the operation after the model id") }
            }
            return Mapping(host: "bedrock-runtime.\(region).amazonaws.com", path: String(rest))
        case .workersAI:
            guard !account.isEmpty else { throw missing("the Cloudflare account id (the gateway path's account)") }
            guard Self.isName(account) else { throw malformed("account id", account) }
            guard let first = next() else { throw missing("the model") }
            // A model id is `@cf/{author}/{name}` (or `@hf/…`); no segment may climb out of `ai/run/` or `ai/v1/`,
            // even once a server decodes its escapes.
            for segment in path.split(separator: "/") {
                let decoded = PercentDecoding.decoded(segment)
                if decoded == "." || decoded == ".." || decoded.contains("/") { throw malformed("path", segment) }
            }
            let base = "/client/v4/accounts/\(account)/ai"
            if first == "v1" {
                let rest = Self.rest(path, after: 1)
                guard rest.count > 1 else { throw missing("the OpenAI-compatible endpoint after v1/") }
                return Mapping(host: "api.cloudflare.com", path: "\(base)/v1\(rest)")
            }
            return Mapping(host: "api.cloudflare.com", path: "\(base)/run\(path)")
        }
    }

    /// The model a recorded path (what followed the provider slug) names: Vertex AI's `…/models/{model}:{method}`,
    /// Bedrock's `…/model/{modelId}/…` (percent-decoded: SDKs escape the `:` of `…-v1:0`), Workers AI's REST
    /// `/{model}` (`@cf/meta/llama-3.1-8b-instruct`, percent-decoded: `@` may come as `%40`); nil for Azure, whose
    /// path names a deployment, and for Workers AI's OpenAI-compatible `/v1/…`, whose body names the model.
    public func model(inPath path: String) -> String? {
        switch self {
        case .azureOpenAI:
            return nil
        case .googleVertexAI:
            return RequestSummary.pathModel(path)
        case .awsBedrock:
            let segments = path.split(separator: "/", omittingEmptySubsequences: false)
            guard segments.count >= 6, segments[1] == "bedrock-runtime", segments[3] == "model", !segments[4].isEmpty
            else { return nil }
            return PercentDecoding.decoded(segments[4])
        case .workersAI:
            guard path.hasPrefix("/"), path.count > 1, path != "/v1", !path.hasPrefix("/v1/") else { return nil }
            return PercentDecoding.decoded(path.dropFirst())
        }
    }

    /// Whether a recorded path asks for a stream: Vertex AI's `:streamGenerateContent` / `:streamRawPredict`,
    /// Bedrock's `converse-stream` / `invoke-with-response-stream`. Workers AI, like Azure, says so in the body
    /// (`"stream": true`).
    public func streams(path: String) -> Bool {
        switch self {
        case .azureOpenAI, .workersAI:
            return false
        case .googleVertexAI:
            return path.hasSuffix(":streamGenerateContent") || path.hasSuffix(":streamRawPredict")
        case .awsBedrock:
            return path.hasSuffix("/converse-stream") || path.hasSuffix("/invoke-with-response-stream")
        }
    }

    private func missing(_ what: String) -> Failure {
        Failure("\(rawValue) path is missing \(what); expected \(pathShape)")
    }

    private func malformed(_ what: String, _ value: Substring) -> Failure {
        Failure("\(rawValue) path has a malformed \(what) (\(value.prefix(64))); expected \(pathShape)")
    }

    /// The path from the slash before segment `count + 1` on (segments counted after the leading slash).
    private static func rest(_ path: Substring, after count: Int) -> Substring {
        var index = path.startIndex
        var seen = 0
        while index < path.endIndex {
            if path[index] == "/" {
                if seen == count { return path[index...] }
                seen += 1
            }
            index = path.index(after: index)
        }
        return ""
    }

    /// A DNS label: 1 to 63 ASCII letters, digits and hyphens, not starting or ending with a hyphen. Anything else
    /// could change which host the request goes to.
    public static func isHostLabel(_ value: Substring) -> Bool {
        let utf8 = value.utf8
        guard (1...63).contains(utf8.count), utf8.first != UInt8(ascii: "-"), utf8.last != UInt8(ascii: "-") else {
            return false
        }
        return utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    /// A path segment naming something (deployment, project, publisher): letters, digits, `-`, `_`, `.`, and not
    /// `.` or `..`.
    static func isName(_ value: Substring) -> Bool {
        guard !value.isEmpty, value != ".", value != ".." else { return false }
        return value.utf8.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
        }
    }

    private static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }
}
