import Foundation
import NIOCore
import NIOHTTP1
import Testing
import TollgateModel

/// Bedrock's binary event streams through the gateway: the bytes reach the client untouched, in the pieces the
/// upstream sent, and the log has the usage read from them as they passed, the model from the path and the stream
/// flag. The Bedrock routing itself (region, SigV4) is not in the built-in table yet, so the test adds a `.bedrock`
/// provider row pointing at an in-test upstream.
@Suite(.serialized) struct BedrockEventStreamEndToEndTests {
    static let fixtures =
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path + "/Fixtures/"

    @Test(arguments: [
        ("bedrock-converse-stream.eventstream", "converse-stream", 1342, 1024, 14),
        ("bedrock-invoke-stream.eventstream", "invoke-with-response-stream", 21, 0, 87),
    ])
    func eventStreamUsageIsLoggedAsItPasses(
        fixture: String, operation: String, tokensIn: Int, cached: Int, tokensOut: Int
    ) async throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + fixture)))
        let upstream = try await TestUpstream { _, responder in
            try await responder.head(.ok, [("content-type", "application/vnd.amazon.eventstream")])
            // Small pieces that split preludes, headers and CRCs.
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + 13)
                try await responder.channel.writeAndFlush(
                    HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: bytes[start..<end]))))
                start = end
            }
            try await responder.end()
        }
        let harness = try await GatewayHarness.start { configuration in
            let builtIn = ProviderTable.builtIn
            configuration.providers = ProviderTable(
                builtIn.slugs.compactMap { builtIn.provider($0) } + [
                    Provider(slug: "aws-bedrock", baseURL: upstream.baseURL, api: .bedrock)
                ])
        }
        defer { Task { try? await harness.stop() } }
        let model = "anthropic.claude-3-5-haiku-20241022-v1:0"
        // With the payload kept the usage is parsed from the captured body; without it, by the scanner as the
        // bytes pass.
        for collectPayload in ["true", "false"] {
            let response = try await harness.request(
                "POST", "/v1/default/default/aws-bedrock/model/\(model)/\(operation)",
                headers: ["Content-Type": "application/json", "cf-aig-collect-log-payload": collectPayload],
                body: Data(#"{"messages":[{"role":"user","content":[{"text":"Say hello."}]}]}"#.utf8))
            #expect(response.status == 200)
            #expect([UInt8](response.body) == bytes)
        }

        let logs = try await harness.waitForLogs(count: 2)
        #expect(logs.count == 2)
        for log in logs {
            #expect(log["provider"] as? String == "aws-bedrock")
            #expect(log["model"] as? String == model)
            #expect(log["stream"] as? Bool == true)
            #expect(log["tokens_in"] as? Int == tokensIn)
            #expect((log["cached_tokens_in"] as? Int ?? 0) == cached)
            #expect(log["tokens_out"] as? Int == tokensOut)
        }
        try await harness.stop()
        await upstream.shutdown()
    }
}
