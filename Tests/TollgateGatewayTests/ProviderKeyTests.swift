import Foundation
import Testing
import TollgateModel

@testable import TollgateGateway

/// Provider keys kept by the gateway: stored sealed, listed by preview, put into authenticated requests that carry
/// no key of their own, in the header their provider reads.
@Suite(.serialized) struct ProviderKeyTests {
    static let openAIKey = "sk-proj-STOREDopenai0a1b2c3d4e"
    static let anthropicKey = "sk-ant-api03-STOREDanthropic9f8e"
    static let azureKey = "azureSTOREDkey5566778899aa"
    static let geminiKey = "AIzaSySTOREDgeminikey11223"

    /// An upstream standing in for every provider, recording what it receives.
    static func upstream() async throws -> TestUpstream {
        try await TestUpstream { request, responder in
            let body: String
            if request.uri.contains(":generateContent") {
                body = #"""
                    {"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":1,"totalTokenCount":3},"modelVersion":"gemini-2.5-flash"}
                    """#
            } else if request.uri.hasSuffix("/v1/messages") {
                body = #"""
                    {"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":2,"output_tokens":1}}
                    """#
            } else {
                body = GatewayAuthenticationTests.chatResponse
            }
            try await responder.respond(.ok, [("content-type", "application/json")], body: body)
        }
    }

    static func start(
        _ upstream: TestUpstream, data: String, masterKey: String? = nil
    ) async throws -> GatewayHarness {
        try await GatewayHarness.start(dataDirectory: data) { configuration in
            configuration.masterKey = masterKey
            configuration.providers = configuration.providers
                .overriding("openai", baseURL: upstream.baseURL + "/v1")!
                .overriding("anthropic", baseURL: upstream.baseURL)!
                .overriding("google-ai-studio", baseURL: upstream.baseURL)!
                .overriding("azure-openai", baseURL: upstream.baseURL)!
        }
    }

    static func store(
        _ harness: GatewayHarness, provider: String, secret: String, alias: String? = nil
    ) async throws -> GatewayHarness.HTTPResult {
        let aliasMember = alias.map { #","alias":"\#($0)""# } ?? ""
        return try await harness.api(
            "POST", "/api/v1/accounts/default/provider-keys",
            json: #"{"provider":"\#(provider)","secret":"\#(secret)"\#(aliasMember)}"#)
    }

    static func chat(
        _ harness: GatewayHarness, gateway: String, token: String?, extra: [String: String] = [:]
    ) async throws -> GatewayHarness.HTTPResult {
        var headers = ["Content-Type": "application/json"]
        if let token { headers["cf-aig-authorization"] = "Bearer \(token)" }
        return try await harness.request(
            "POST", "/v1/default/\(gateway)/openai/chat/completions", headers: headers.merging(extra) { $1 },
            body: GatewayAuthenticationTests.chatBody)
    }

    @Test func storedKeysGoToTheirProvidersHeaderOnlyOnAuthenticatedGateways() async throws {
        let upstream = try await Self.upstream()
        let data = makeTemporaryDirectory()
        let harness = try await Self.start(upstream, data: data)
        _ = try await harness.api(
            "POST", "/api/v1/accounts/default/gateways", json: #"{"id":"locked","authentication":true}"#)
        let token = try await AccountTokenTests.createToken(harness, account: "default").token

        let created = try await Self.store(harness, provider: "openai", secret: Self.openAIKey)
        #expect(created.status == 201, "\(created.text)")
        let createdJSON = try created.json()
        #expect(createdJSON["alias"] as? String == "default")
        #expect(createdJSON["preview"] as? String == "3d4e")
        #expect(!created.text.contains(Self.openAIKey))
        let openAIID = try #require(createdJSON["id"] as? String)
        #expect(try await Self.store(harness, provider: "anthropic", secret: Self.anthropicKey).status == 201)
        #expect(try await Self.store(harness, provider: "azure-openai", secret: Self.azureKey).status == 201)
        #expect(try await Self.store(harness, provider: "google-ai-studio", secret: Self.geminiKey).status == 201)
        #expect(
            try await Self.store(harness, provider: "openai", secret: "sk-other-key-abcdef", alias: "team-b").status
                == 201)
        // One key per provider and alias.
        let duplicate = try await Self.store(harness, provider: "openai", secret: "sk-yet-another-key")
        #expect(duplicate.status == 409, "\(duplicate.text)")
        #expect(try await Self.store(harness, provider: "openai", secret: "short").status == 400)
        let misspelt = try await Self.store(harness, provider: "opneai", secret: "sk-misspelt-provider")
        #expect(misspelt.status == 400 && misspelt.text.contains("provider"), "\(misspelt.text)")
        #expect(try await Self.store(harness, provider: "aws-bedrock", secret: "AKIAEXAMPLEKEY12").status == 400)

        // The list shows previews, never a key.
        let listed = try await harness.api("/api/v1/accounts/default/provider-keys")
        #expect(listed.status == 200)
        let keys = try #require(try listed.json()["provider_keys"] as? [[String: Any]])
        #expect(keys.count == 5)
        #expect(Set(keys.compactMap { $0["preview"] as? String }) == ["3d4e", "9f8e", "99aa", "1223", "cdef"])
        for secret in [Self.openAIKey, Self.anthropicKey, Self.azureKey, Self.geminiKey, "sk-other-key-abcdef"] {
            #expect(!listed.text.contains(secret))
        }

        // Authenticated, no key of its own: each provider gets its stored key in the header it reads.
        #expect(try await Self.chat(harness, gateway: "locked", token: token).status == 200)
        #expect(upstream.requests.last?.headers.first(name: "authorization") == "Bearer \(Self.openAIKey)")
        let auth = ["Content-Type": "application/json", "cf-aig-authorization": "Bearer \(token)"]
        let messages = try await harness.request(
            "POST", "/v1/default/locked/anthropic/v1/messages",
            headers: auth.merging(["anthropic-version": "2023-06-01"]) { $1 },
            body: Data(
                #"{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#.utf8))
        #expect(messages.status == 200, "\(messages.text)")
        #expect(upstream.requests.last?.headers.first(name: "x-api-key") == Self.anthropicKey)
        #expect(upstream.requests.last?.headers.first(name: "authorization") == nil)
        let azure = try await harness.request(
            "POST", "/v1/default/locked/azure-openai/acme/gpt-4o/chat/completions?api-version=2024-10-21",
            headers: auth, body: GatewayAuthenticationTests.chatBody)
        #expect(azure.status == 200, "\(azure.text)")
        #expect(upstream.requests.last?.headers.first(name: "api-key") == Self.azureKey)
        let gemini = try await harness.request(
            "POST", "/v1/default/locked/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent",
            headers: auth, body: Data(#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#.utf8))
        #expect(gemini.status == 200, "\(gemini.text)")
        #expect(upstream.requests.last?.headers.first(name: "x-goog-api-key") == Self.geminiKey)

        // `cf-aig-byok-alias` picks another key; an alias with no key is refused, naming it.
        #expect(
            try await Self.chat(harness, gateway: "locked", token: token, extra: ["cf-aig-byok-alias": "team-b"])
                .status == 200)
        #expect(upstream.requests.last?.headers.first(name: "authorization") == "Bearer sk-other-key-abcdef")
        let count = upstream.requests.count
        let unknown = try await Self.chat(
            harness, gateway: "locked", token: token, extra: ["cf-aig-byok-alias": "nobody"])
        #expect(unknown.status == 400)
        #expect(unknown.text.contains("nobody"))
        #expect(upstream.requests.count == count)

        // A request with its own key keeps it.
        #expect(
            try await Self.chat(harness, gateway: "locked", token: token, extra: ["Authorization": "Bearer sk-own"])
                .status == 200)
        #expect(upstream.requests.last?.headers[canonicalForm: "authorization"] == ["Bearer sk-own"])

        // Without authentication the stored key is not used.
        #expect(try await Self.chat(harness, gateway: "default", token: nil).status == 200)
        #expect(upstream.requests.last?.headers.first(name: "authorization") == nil)
        // Nor without a valid token on an authenticated gateway.
        #expect(try await Self.chat(harness, gateway: "locked", token: "tg_wrong").status == 401)

        // Deleting the key stops its use.
        #expect(try await harness.api("DELETE", "/api/v1/accounts/default/provider-keys/\(openAIID)").status == 204)
        #expect(try await harness.api("DELETE", "/api/v1/accounts/default/provider-keys/\(openAIID)").status == 404)
        #expect(try await Self.chat(harness, gateway: "locked", token: token).status == 200)
        #expect(upstream.requests.last?.headers.first(name: "authorization") == nil)
        try await harness.stop()
        await upstream.shutdown()
    }

    /// The generated master key file is never readable by others, not even while it is written: the file is created
    /// with mode 0600 before a byte of the key is in it, and renamed into place whole.
    @Test func theMasterKeyFileIsOwnerOnlyFromTheMomentItExists() throws {
        let data = makeTemporaryDirectory()
        let path = data + "/" + MasterKey.fileName
        func mode(_ file: String) -> Int? {
            (try? FileManager.default.attributesOfItem(atPath: file))?[.posixPermissions].flatMap { $0 as? NSNumber }?
                .intValue
        }
        // A temporary file a crash left behind is replaced.
        #expect(FileManager.default.createFile(atPath: path + ".new", contents: Data("partial".utf8)))
        var modeWhenCreated: Int?
        var sizeWhenCreated: Int?
        try MasterKey.writeOwnerOnly(Array("a key\n".utf8), to: path) { temporary in
            modeWhenCreated = mode(temporary)
            sizeWhenCreated =
                (try? FileManager.default.attributesOfItem(atPath: temporary))?[.size]
                .flatMap { $0 as? NSNumber }?.intValue
        }
        #expect(modeWhenCreated.map { $0 & 0o077 } == 0, "no group or other bits while the key is written")
        #expect(sizeWhenCreated == 0)
        #expect(mode(path) == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a key\n")
        #expect(!FileManager.default.fileExists(atPath: path + ".new"))

        // The key `load` generates is the one it reads back.
        let folder = makeTemporaryDirectory()
        let generated = try MasterKey.load(configured: nil, dataDirectory: folder)
        let read = try MasterKey.load(configured: nil, dataDirectory: folder)
        #expect(generated.withUnsafeBytes { Data($0) } == read.withUnsafeBytes { Data($0) })
        #expect(mode(folder + "/" + MasterKey.fileName) == 0o600)
    }

    @Test func keysSurviveRestartWithTheMasterKeyFileAndAWrongKeyStopsTheStart() async throws {
        let upstream = try await Self.upstream()
        let data = makeTemporaryDirectory()
        var harness = try await Self.start(upstream, data: data)
        _ = try await harness.api(
            "POST", "/api/v1/accounts/default/gateways", json: #"{"id":"locked","authentication":true}"#)
        let token = try await AccountTokenTests.createToken(harness, account: "default").token
        #expect(try await Self.store(harness, provider: "openai", secret: Self.openAIKey).status == 201)
        try await harness.stop()

        // The generated master key file is readable by its owner only.
        let attributes = try FileManager.default.attributesOfItem(atPath: data + "/master.key")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        harness = try await Self.start(upstream, data: data)
        #expect(try await Self.chat(harness, gateway: "locked", token: token).status == 200)
        #expect(upstream.requests.last?.headers.first(name: "authorization") == "Bearer \(Self.openAIKey)")
        try await harness.stop()

        // Another master key does not open the stored keys: the gateway does not start, and says why.
        let wrong = Data(repeating: 7, count: 32).base64EncodedString()
        do {
            _ = try await Self.start(upstream, data: data, masterKey: wrong)
            Issue.record("started with the wrong master key")
        } catch {
            #expect("\(error)".contains("master key does not open the stored provider keys"), "\(error)")
        }
        do {
            _ = try await Self.start(upstream, data: makeTemporaryDirectory(), masterKey: "not-base64")
            Issue.record("started with a malformed master key")
        } catch {
            #expect("\(error)".contains("TOLLGATE_MASTER_KEY: expected a master key of 32 bytes"), "\(error)")
        }
        await upstream.shutdown()
    }
}
