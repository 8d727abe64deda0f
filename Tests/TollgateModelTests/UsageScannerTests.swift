import Foundation
import Testing

@testable import TollgateModel

/// The scanners that read usage and the request summary as bodies pass must give what parsing the whole body
/// gives, however the body is cut into chunks.
struct UsageScannerTests {
    /// Feeds `body` to a new scanner in chunks of `size` bytes.
    static func scanResponse(_ body: [UInt8], eventStream: Bool, chunk size: Int) -> ResponseUsage {
        var scanner = ResponseUsageScanner(eventStream: eventStream)
        body.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                let end = min(start + size, raw.count)
                scanner.feed(UnsafeRawBufferPointer(rebasing: raw[start..<end]))
                start = end
            }
        }
        return scanner.finish()
    }

    static func scanRequest(_ body: [UInt8], chunk size: Int) -> RequestSummary {
        var scanner = RequestSummaryScanner()
        body.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                let end = min(start + size, raw.count)
                scanner.feed(UnsafeRawBufferPointer(rebasing: raw[start..<end]))
                start = end
            }
        }
        return scanner.finish()
    }

    static let chunkSizes = [1, 2, 3, 7, 64, 1 << 20]

    @Test(arguments: FixtureTests.names)
    func everyFixtureScansAsItParses(name: String) throws {
        let body = try FixtureTests.bytes(name)
        let eventStream = name.hasSuffix(".sse")
        let parsed = UsageParser.parse(body: body, eventStream: eventStream)
        // Usage is read from every fixture that reports it (its expected file has token counts): the comparison below
        // is not between two empties.
        let expected = try FixtureTests.load(name).expected
        if !(expected["tokens_in"] is NSNull && expected["tokens_out"] is NSNull) {
            #expect(parsed.usage != Usage(), "\(name)")
        }
        for size in Self.chunkSizes {
            #expect(Self.scanResponse(body, eventStream: eventStream, chunk: size) == parsed, "\(name) in \(size)s")
        }
        let requestFile = FixtureTests.base(name) + ".request.json"
        if FileManager.default.fileExists(atPath: FixtureTests.directory.appendingPathComponent(requestFile).path) {
            let request = try FixtureTests.bytes(requestFile)
            for size in Self.chunkSizes {
                #expect(Self.scanRequest(request, chunk: size) == RequestSummary(body: request), "\(requestFile)")
            }
        }
    }

    @Test func aRequestKeepsOnlyItsModelAndStreamFlag() {
        let body = Array(
            #"{"messages":[{"role":"user","content":"a \"model\": \"x\", {\"stream\":false}"}],"stream" : true, "model":"gpt-5-mini","n":1}"#
                .utf8)
        for size in Self.chunkSizes {
            #expect(Self.scanRequest(body, chunk: size) == RequestSummary(model: "gpt-5-mini", stream: true))
        }
        // Not JSON: nothing but what the path says.
        #expect(Self.scanRequest(Array("--boundary\r\n".utf8), chunk: 4) == RequestSummary())
    }

    /// Events end at a blank line whatever the line ends (LF, CRLF, CR, mixed), wherever the chunks cut them: a
    /// CRLF split across two chunks is one line end, and a CR alone is one too.
    @Test func streamsWithEveryLineEndScanAsTheyParse() {
        let events = [
            #"data: {"model":"gpt-5-mini","choices":[]}"#, ": a comment", #"data: {"choices":[{"delta":{}}]}"#,
            #"data: {"usage":{"prompt_tokens":11,"completion_tokens":5,"total_tokens":16}}"#, "data: [DONE]",
        ]
        for ends in [["\n"], ["\r\n"], ["\r"], ["\r\n", "\n", "\r", "\r\n", "\r"]] {
            var text = ""
            for (index, event) in events.enumerated() {
                let end = ends[index % ends.count]
                text += event + end + end
            }
            let body = Array(text.utf8)
            let parsed = UsageParser.parse(body: body, eventStream: true)
            #expect(parsed.usage.tokensIn == 11 && parsed.model == "gpt-5-mini", "\(ends)")
            for size in 1...9 {
                #expect(Self.scanResponse(body, eventStream: true, chunk: size) == parsed, "\(ends) in \(size)s")
            }
        }
    }

    @Test func aStreamCutMidEventKeepsWhatItHad() {
        let stream = """
            data: {"model":"gpt-5-mini","choices":[]}

            data: {"usage":{"prompt_tokens":11,"completion_tokens":5,"total_tokens":16}}
            """
        let body = Array(stream.utf8)
        let usage = Self.scanResponse(body, eventStream: true, chunk: 5)
        #expect(usage.model == "gpt-5-mini")
        #expect(usage.usage.tokensIn == 11)
        #expect(usage.usage.tokensOut == 5)
        #expect(usage == UsageParser.parse(body: body, eventStream: true))
    }

    @Test func aJSONBodyCutBeforeItsEndKeepsTheMembersCompleted() {
        let body = Array(#"{"model":"m-1","usage":{"prompt_tokens":3,"completion_tokens":4},"choices":[{"mess"#.utf8)
        let usage = Self.scanResponse(body, eventStream: false, chunk: 3)
        #expect(usage.model == "m-1")
        #expect(usage.usage.tokensIn == 3)
        #expect(usage.usage.tokensOut == 4)
    }
}
