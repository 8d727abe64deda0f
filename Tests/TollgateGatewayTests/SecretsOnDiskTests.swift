import Foundation
import Testing
import TollgateModel
import TollgateStorage

/// No provider key, nor gateway token, ever reaches the disk: requests carry them in every place a client puts
/// them, or keep them in the gateway (provider keys, sealed under the master key), and afterwards neither a decoded
/// record nor any byte of the data folder (segments, dictionaries, the SQLite catalog and its WAL) contains one.
@Suite(.serialized) struct SecretsOnDiskTests {
    static let secrets = [
        "authorization": "sk-proj-SECRETbearer7f3a9c21d0e4",
        "x-api-key": "sk-ant-api03-SECRETxapikey41d2b6",
        "api-key": "azureSECRETapikey88e1c0ffee",
        "query": "AIzaSyQSECRETgeminiquery5b77",
        "goog": "AIzaSyGSECRETgooglekey0c9d",
        "stored": "sk-proj-SECRETstoredkey3e5f7a9b",
        "aws": "SECRETawsSecretAccessKey/0a1b2c3d4e5f6a7b8c9d",
    ]
    static let awsAccessKeyID = "AKIASTOREDSECRETS7Q2"

    @Test func noSecretInAnyRecordOrFile() async throws {
        let upstream = try await TestUpstream { request, responder in
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
        let data = makeTemporaryDirectory()
        let harness = try await GatewayHarness.start(dataDirectory: data) { configuration in
            configuration.providers = configuration.providers
                .overriding("openai", baseURL: upstream.baseURL + "/v1")!
                .overriding("anthropic", baseURL: upstream.baseURL)!
                .overriding("google-ai-studio", baseURL: upstream.baseURL)!
                .overriding("aws-bedrock", baseURL: upstream.baseURL)!
        }
        defer { Task { try? await harness.stop() } }
        _ = try await harness.api(
            "POST", "/api/v1/accounts/default/gateways", json: #"{"id":"locked","authentication":true}"#)
        let token = try await AccountTokenTests.createToken(harness, account: "default").token
        let stored = try await harness.api(
            "POST", "/api/v1/accounts/default/provider-keys",
            json: #"{"provider":"openai","alias":"vault","secret":"\#(Self.secrets["stored"]!)"}"#)
        #expect(stored.status == 201, "\(stored.text)")
        let storedAWS = try await harness.api(
            "POST", "/api/v1/accounts/default/provider-keys",
            json: #"{"provider":"aws-bedrock","access_key_id":"\#(Self.awsAccessKeyID)","#
                + #""secret_access_key":"\#(Self.secrets["aws"]!)","region":"us-east-1"}"#)
        #expect(storedAWS.status == 201, "\(storedAWS.text)")
        let json = ["Content-Type": "application/json"]
        let chat = GatewayAuthenticationTests.chatBody
        let gemini = Data(#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#.utf8)
        let messages = Data(
            #"{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#.utf8)
        let s = Self.secrets
        let sent: [(String, [String: String], Data)] = [
            (
                "/v1/default/default/openai/chat/completions",
                json.merging(["Authorization": "Bearer \(s["authorization"]!)"]) { $1 }, chat
            ),
            (
                "/v1/default/default/anthropic/v1/messages",
                json.merging(["x-api-key": s["x-api-key"]!, "anthropic-version": "2023-06-01"]) { $1 }, messages
            ),
            ("/v1/default/default/openai/chat/completions", json.merging(["api-key": s["api-key"]!]) { $1 }, chat),
            (
                "/v1/default/default/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent?key=\(s["query"]!)",
                json, gemini
            ),
            (
                "/v1/default/default/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent?alt=json",
                json.merging(["x-goog-api-key": s["goog"]!]) { $1 }, gemini
            ),
            (
                "/v1/default/locked/openai/chat/completions",
                json.merging([
                    "cf-aig-authorization": "Bearer \(token)", "Authorization": "Bearer \(s["authorization"]!)",
                ]) {
                    $1
                }, chat
            ),
            (
                "/v1/default/locked/openai/chat/completions",
                json.merging(["cf-aig-authorization": "Bearer \(token)", "cf-aig-byok-alias": "vault"]) { $1 }, chat
            ),
            (
                "/v1/default/locked/aws-bedrock/bedrock-runtime/us-east-1/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
                json.merging(["cf-aig-authorization": "Bearer \(token)"]) { $1 },
                Data(#"{"messages":[{"role":"user","content":[{"text":"hi"}]}]}"#.utf8)
            ),
        ]
        for (path, headers, body) in sent {
            let response = try await harness.request("POST", path, headers: headers, body: body)
            #expect(response.status == 200, "\(path): \(response.text)")
        }
        // The provider got its keys (they are forwarded as they are)…
        let received = upstream.requests
        #expect(received.count == sent.count)
        #expect(received.contains { $0.headers.first(name: "authorization") == "Bearer \(s["authorization"]!)" })
        #expect(received.contains { $0.headers.first(name: "x-api-key") == s["x-api-key"] })
        #expect(received.contains { $0.headers.first(name: "api-key") == s["api-key"] })
        #expect(received.contains { $0.uri.hasSuffix("?key=\(s["query"]!)") })
        #expect(received.contains { $0.headers.first(name: "x-goog-api-key") == s["goog"] })
        #expect(received.contains { $0.headers.first(name: "authorization") == "Bearer \(s["stored"]!)" })
        // The stored AWS key signed the Bedrock request: its access key id is in the credential, its secret nowhere.
        #expect(
            received.contains {
                $0.headers.first(name: "authorization")?.hasPrefix(
                    "AWS4-HMAC-SHA256 Credential=\(Self.awsAccessKeyID)/") == true
            })
        // …but never the gateway token.
        #expect(!received.contains { request in request.headers.contains { $0.value.contains(token) } })

        // The logs show where the secrets were, not what they were.
        let logs = try await harness.waitForLogs(count: sent.count)
        #expect(logs.count == sent.count)
        #expect(logs.contains { ($0["path"] as? String)?.hasSuffix("?key=REDACTED") == true })

        let everySecret = Array(s.values) + [token]
        try Self.expectNoSecret(everySecret, inFolder: data, when: "while running")
        try await harness.stop()
        try Self.expectNoSecret(everySecret, inFolder: data, when: "after shutdown")
        let reader = SegmentReader(directory: data)
        var records = 0
        for segment in try reader.segments() {
            try reader.forEachRecord(in: segment) { _, record in
                records += 1
                let text = String(reflecting: record)
                let bodies = [Data(record.requestBody), Data(record.responseBody)]
                for secret in everySecret {
                    #expect(!text.contains(secret), "record \(record.id) holds a secret")
                    for body in bodies { #expect(body.range(of: Data(secret.utf8)) == nil) }
                }
                let headers = Dictionary(record.requestHeaders.map { ($0.name, $0.value) }) { a, _ in a }
                for name in ["authorization", "x-api-key", "api-key", "x-goog-api-key", "cf-aig-authorization"] {
                    if let value = headers[name] { #expect(value == "REDACTED", "\(name)") }
                }
            }
        }
        #expect(records == sent.count)
        await upstream.shutdown()
    }

    /// Scans every file under `folder` byte for byte.
    static func expectNoSecret(_ secrets: [String], inFolder folder: String, when: String) throws {
        let enumerator = try #require(FileManager.default.enumerator(atPath: folder))
        var scanned = 0
        var sawCatalog = false
        var sawSegment = false
        while let relative = enumerator.nextObject() as? String {
            let path = folder + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                continue
            }
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            scanned += 1
            if relative.hasPrefix("catalog.sqlite") { sawCatalog = true }
            if relative.hasSuffix(".seg") && !bytes.isEmpty { sawSegment = true }
            for secret in secrets {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(when): \(relative) holds a secret")
            }
        }
        #expect(scanned > 0 && sawCatalog && sawSegment, "\(when)")
    }
}
