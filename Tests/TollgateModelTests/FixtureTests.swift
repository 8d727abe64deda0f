import Foundation
import Testing

@testable import TollgateModel

/// Every fixture in `Fixtures/` goes through `LogRecord(exchange:providers:)` and must give its expected usage.
@Suite("Fixtures")
struct FixtureTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// Bodies: every file that is not an expected file, a request body, the README or a configuration file
    /// (`*.yaml`, read by the configuration tests).
    static let names: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter {
            !$0.hasSuffix(".expected.json") && !$0.hasSuffix(".request.json") && $0 != "README.md"
                && !$0.hasPrefix(".") && !$0.hasSuffix(".yaml")
        }.sorted()
    }()

    static func base(_ name: String) -> String {
        guard let dot = name.lastIndex(of: ".") else { return name }
        return String(name[..<dot])
    }

    static func bytes(_ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(file)))
    }

    struct Case {
        var exchange: Exchange
        var expected: [String: Any]
    }

    /// Builds the exchange a fixture describes (with credentials in the headers, to check they never survive).
    static func load(_ name: String) throws -> Case {
        let expectedFile = base(name) + ".expected.json"
        let expectedPath = directory.appendingPathComponent(expectedFile).path
        guard FileManager.default.fileExists(atPath: expectedPath) else {
            throw FixtureError(message: "\(name) has no \(expectedFile)")
        }
        let object = try JSONSerialization.jsonObject(with: Data(try bytes(expectedFile)))
        guard let expected = object as? [String: Any], let ex = expected["exchange"] as? [String: Any],
            let provider = ex["provider"] as? String, let path = ex["path"] as? String,
            let contentType = ex["content_type"] as? String
        else { throw FixtureError(message: "\(expectedFile) lacks exchange.provider/path/content_type") }
        let requestFile = base(name) + ".request.json"
        let request =
            FileManager.default.fileExists(atPath: directory.appendingPathComponent(requestFile).path)
            ? try bytes(requestFile) : []
        let body = try bytes(name)
        let exchange = Exchange(
            id: LogIDGenerator().next(millisecondsSinceEpoch: 1_764_028_800_000), startedAt: 1_764_028_800_000,
            account: "default", gateway: "default", provider: provider, method: "POST", path: path,
            query: ex["query"] as? String,
            requestHeaders: [
                ("Content-Type", "application/json"), ("Authorization", "Bearer sk-test-SECRET"),
                ("x-api-key", "sk-ant-SECRET"), ("x-goog-api-key", "AIzaSECRET"),
            ],
            requestBody: request, statusCode: ex["status"] as? Int ?? 200,
            responseHeaders: [Header("Content-Type", contentType), Header("Set-Cookie", "__cf_bm=SECRET; path=/")],
            responseBody: body, responseSize: Int64(body.count), requestSize: Int64(request.count),
            durationMicros: 812_000, ttftMicros: 240_000, error: nil)
        return Case(exchange: exchange, expected: expected)
    }

    @Test func fixturesExist() {
        #expect(Self.names.count >= 25, "found \(Self.names)")
        for provider in ProviderTable.builtIn.slugs {
            let prefix: String
            switch provider {
            case "google-ai-studio": prefix = "gemini"
            case "perplexity-ai": prefix = "perplexity"
            case "aws-bedrock": prefix = "bedrock"
            default: prefix = provider
            }
            #expect(Self.names.contains { $0.hasPrefix(prefix + "-") }, "no fixture for \(provider)")
        }
    }

    @Test(arguments: FixtureTests.names)
    func fixtureParsesToExpectedUsage(_ name: String) throws {
        let fixture = try Self.load(name)
        let record = LogRecord(exchange: fixture.exchange, providers: .builtIn)
        let e = fixture.expected

        func count(_ key: String) throws -> Int64? {
            guard let value = e[key] else { throw FixtureError(message: "\(name): expected file lacks \(key)") }
            if value is NSNull { return nil }
            guard let number = value as? NSNumber else { throw FixtureError(message: "\(name): \(key) not a number") }
            return number.int64Value
        }
        func string(_ key: String) throws -> String? {
            guard let value = e[key] else { throw FixtureError(message: "\(name): expected file lacks \(key)") }
            return value as? String
        }

        #expect(record.model == (try string("model")), "\(name): model")
        #expect(record.stream == (e["stream"] as? Bool), "\(name): stream")
        #expect(record.usage.tokensIn == (try count("tokens_in")), "\(name): tokens_in")
        #expect(record.usage.cachedTokensIn == (try count("cached_tokens_in")), "\(name): cached_tokens_in")
        #expect(record.usage.cacheWriteTokens == (try count("cache_write_tokens")), "\(name): cache_write_tokens")
        #expect(
            record.usage.cacheWrite1hTokens == (try count("cache_write_1h_tokens")), "\(name): cache_write_1h_tokens")
        #expect(record.usage.tokensOut == (try count("tokens_out")), "\(name): tokens_out")
        #expect(record.usage.reasoningTokens == (try count("reasoning_tokens")), "\(name): reasoning_tokens")
        #expect(record.usage.serviceTier == (try string("service_tier")), "\(name): service_tier")

        // The whole record: success follows the status, secrets never survive.
        #expect(record.success == (200..<300).contains(fixture.exchange.statusCode))
        #expect(record.responseBody == fixture.exchange.responseBody)
        let stored = Array(record.requestHeaders) + Array(record.responseHeaders)
        #expect(!stored.contains { $0.value.contains("SECRET") })
        #expect(stored.allSatisfy { $0.name == $0.name.lowercased() })
    }

    /// The same bodies parsed straight through `UsageParser` agree with the record path.
    @Test(arguments: FixtureTests.names)
    func parserAgreesWithRecord(_ name: String) throws {
        let fixture = try Self.load(name)
        let record = LogRecord(exchange: fixture.exchange, providers: .builtIn)
        let contentType = fixture.expected["exchange"].flatMap { ($0 as? [String: Any])?["content_type"] as? String }
        let parsed = UsageParser.parse(
            body: fixture.exchange.responseBody, eventStream: contentType?.contains("event-stream") ?? false)
        #expect(parsed.usage == record.usage)
    }

    /// Cut every fixture at many points and flip bytes: parsing never traps and never reports negative counts.
    @Test(arguments: FixtureTests.names)
    func truncatedAndCorruptedBodiesNeverTrap(_ name: String) throws {
        let body = try Self.bytes(name)
        let stride = max(1, body.count / 600)
        for cut in Swift.stride(from: 0, through: body.count, by: stride) {
            for eventStream in [false, true] {
                let usage = UsageParser.parse(body: Array(body[..<cut]), eventStream: eventStream).usage
                #expect(Self.nonNegative(usage), "\(name) cut at \(cut)")
            }
        }
        var rng = SplitMix64(seed: UInt64(name.utf8.count) &* 0x9E37_79B9)
        for _ in 0..<300 {
            var corrupted = body
            for _ in 0..<Int(rng.next() % 4 + 1) where !corrupted.isEmpty {
                corrupted[Int(rng.next() % UInt64(corrupted.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
            _ = UsageParser.parse(body: corrupted, eventStream: rng.next() % 2 == 0)
        }
    }

    static func nonNegative(_ u: Usage) -> Bool {
        [u.tokensIn, u.cachedTokensIn, u.cacheWriteTokens, u.cacheWrite1hTokens, u.tokensOut, u.reasoningTokens]
            .allSatisfy { ($0 ?? 0) >= 0 }
    }

    /// Per-record cost of `LogRecord(exchange:providers:)` over all fixtures (debug build numbers are rough).
    @Test func recordConversionCost() throws {
        let cases = try Self.names.map { try Self.load($0) }
        let reference = cases.map { LogRecord(exchange: $0.exchange, providers: .builtIn).usage }
        let rounds = 200
        var mismatches = 0
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for _ in 0..<rounds {
                for (i, c) in cases.enumerated() {
                    let record = LogRecord(exchange: c.exchange, providers: .builtIn)
                    if record.usage != reference[i] { mismatches += 1 }
                }
            }
        }
        let records = rounds * cases.count
        let bytes = cases.reduce(0) { $0 + $1.exchange.responseBody.count + $1.exchange.requestBody.count }
        let micros = Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6
        let perRecord = String(format: "%.1f", micros / Double(records))
        print(
            "LogRecord(exchange:providers:): \(records) records, \(perRecord) µs/record, avg body \(bytes / cases.count) B"
        )
        #expect(mismatches == 0)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
