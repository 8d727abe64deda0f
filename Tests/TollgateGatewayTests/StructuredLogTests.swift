import Foundation
import Logging
import Synchronization
import Testing

@testable import TollgateGateway

/// `serve --log-format logfmt|json`: one parseable line per message, metadata included.
@Suite struct StructuredLogTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
    }

    static func logger(_ format: StructuredLogHandler.Format, into lines: Lines) -> Logger {
        var logger = Logger(label: "tollgate") { label in
            StructuredLogHandler(label: label, format: format) { line in lines.lines.withLock { $0.append(line) } }
        }
        logger.logLevel = .debug
        return logger
    }

    @Test func jsonLinesAreObjectsWithTheMetadata() throws {
        let lines = Lines()
        var logger = Self.logger(.json, into: lines)
        logger[metadataKey: "service"] = "gateway"
        logger.info("tollgate \"listening\"\n", metadata: ["http.address": "127.0.0.1:8787", "n": "\(3)"])
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["level"] == "info")
        #expect(object["label"] == "tollgate")
        #expect(object["msg"] == "tollgate \"listening\"\n")
        #expect(object["http.address"] == "127.0.0.1:8787")
        #expect(object["service"] == "gateway")
        #expect(object["n"] == "3")
        #expect(object["ts"]?.hasSuffix("Z") == true)
    }

    @Test func logfmtQuotesWhatNeedsIt() throws {
        let lines = Lines()
        let logger = Self.logger(.logfmt, into: lines)
        logger.warning("store cannot write", metadata: ["reason": "No space left", "attempts": "2", "empty": ""])
        let line = try #require(lines.all.first)
        #expect(line.hasPrefix("ts="))
        #expect(
            line.hasSuffix(
                #" level=warning label=tollgate msg="store cannot write" attempts=2 empty="" reason="No space left""#
                    + "\n"))
        #expect(StructuredLogHandler.logfmtValue("a\"b\\c\nd") == #""a\"b\\c\nd""#)
    }

    /// The ingest stage writes a debug line per proxied request, with its log id.
    @Test func requestLinesCarryTheLogID() async throws {
        let lines = Lines()
        let logger = Self.logger(.logfmt, into: lines)
        let harness = try await GatewayHarness.start(logger: logger)
        defer { Task { try? await harness.stop() } }
        let proxied = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions", headers: ["Content-Type": "application/json"],
            body: Data(#"{"model":"gpt-5-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8))
        #expect(proxied.status == 200)
        let id = try #require(try await harness.waitForLogs(count: 1).first?["id"] as? String)
        let request = lines.all.first { $0.contains("msg=request ") }
        #expect(request?.contains("log_id=\(id)") == true, "\(lines.all)")
        #expect(request?.contains(" account=default ") == true && request?.contains(" gateway=default ") == true)
        #expect(request?.contains(" http.status=200 ") == true)
        try await harness.stop()
    }
}
