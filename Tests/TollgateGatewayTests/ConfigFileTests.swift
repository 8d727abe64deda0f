import Foundation
import Testing
import TollgateConfig
import TollgateModel

@testable import TollgateGateway

/// The configuration file of `serve --config`: read strictly (every error names the file, line and key), its serve
/// settings laid under the flags, and its declarations applied idempotently through the API's own calls.
@Suite struct ConfigFileTests {
    static let example = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tollgate.example.yaml").path

    func error(_ yaml: String) -> ConfigFileError? {
        do {
            _ = try ConfigFile.parse(yaml, file: "t.yaml")
            return nil
        } catch {
            return error
        }
    }

    @Test func theExampleFileParses() throws {
        let config = try ConfigFile.load(path: Self.example)
        #expect(config.serve.port == 8787)
        #expect(config.serve.logFormat == "logfmt")
        #expect(config.serve.upstream == ["openai=http://127.0.0.1:9090/v1"])
        #expect(config.declarations.prices.count == 1)
        let acme = try #require(config.declarations.accounts.first)
        #expect(acme.item.members["id"] == .string("acme"))
        #expect(acme.gateways.map { $0.members["id"] } == [.string("prod"), .string("staging")])
        #expect(acme.customProviders.count == 1)
        #expect(acme.prices.count == 1)
    }

    @Test func anUnknownKeyIsNamedWithItsLine() throws {
        let yaml = """
            accounts:
              - id: acme
                gateways:
                  - id: prod
                    cache_tll: 300
            """
        let failure = try #require(error(yaml))
        #expect(failure.line == 5)
        #expect(failure.key == "accounts[0].gateways[0].cache_tll")
        #expect(failure.message.contains("unknown field"))
        #expect(failure.description.hasPrefix("t.yaml:5:"))

        let serve = try #require(error("serve:\n  port: 8080\n  prot: 1\n"))
        #expect(serve.line == 3)
        #expect(serve.key == "serve.prot")
        let account = try #require(error("accounts:\n  - id: acme\n    gateway: []\n"))
        #expect(account.line == 3)
        #expect(account.key == "accounts[0].gateway")
        #expect(account.message.contains("gateways, custom_providers, prices"), "\(account)")

        let top = try #require(error("serve: {}\naccount: []\n"))
        #expect(top.line == 2)
        #expect(top.key == "account")
    }

    @Test func aWrongTypeIsNamedWithItsLine() throws {
        let port = try #require(error("serve:\n  host: 127.0.0.1\n  port: eighty\n"))
        #expect(port.line == 3)
        #expect(port.key == "serve.port")
        #expect(port.message.contains("whole number"))

        let ttl = try #require(
            error("accounts:\n  - id: acme\n    gateways:\n      - id: prod\n        cache_ttl: soon\n"))
        #expect(ttl.line == 5)
        #expect(ttl.key == "accounts[0].gateways[0].cache_ttl")

        // A quoted number is a string, not a number: strict, as in a JSON body.
        let quoted = try #require(error("accounts:\n  - id: acme\n    log_limit: \"10\"\n"))
        #expect(quoted.key == "accounts[0].log_limit")

        // A nested member is placed at its own line.
        let yaml = """
            accounts:
              - id: acme
                gateways:
                  - id: prod
                    spend_limits:
                      rules:
                        - limit: 5
                          limitType: cost
                          window: soon
            """
        let nested = try #require(error(yaml))
        #expect(nested.key.hasPrefix("accounts[0].gateways[0].spend_limits.rules[0]"), "\(nested)")
        #expect(nested.line >= 7, "\(nested)")

        // Cross-field checks run at parse time too.
        let rate = try #require(
            error("accounts:\n  - id: acme\n    gateways:\n      - id: prod\n        rate_limiting_limit: 5\n"))
        #expect(rate.key == "accounts[0].gateways[0].rate_limiting_interval")

        let provider = try #require(error("serve:\n  upstream:\n    opneai: 'http://127.0.0.1:1/v1'\n"))
        #expect(provider.line == 3)
        #expect(provider.key == "serve.upstream.opneai")

        // The checks of the routes themselves: a custom provider's URL, a price row's threshold.
        let url = try #require(
            error(
                "accounts:\n  - id: acme\n    custom_providers:\n      - slug: house\n"
                    + "        base_url: http://10.0.0.1/v1\n        api: openai\n"))
        #expect(url.line == 5, "\(url)")
        #expect(url.key == "accounts[0].custom_providers[0].base_url")
        let price = try #require(
            error(
                "prices:\n  - provider: openai\n    model: m\n    effective_from: 2026-01-01\n    input: 1\n"
                    + "    input_above: 2\n"))
        #expect(price.line == 6, "\(price)")
        #expect(price.key == "prices[0].input_above")

        let duplicate = try #require(error("serve:\n  port: 1\n  port: 2\n"))
        #expect(duplicate.line == 2, "\(duplicate)")
        #expect(duplicate.key == "port")
        #expect(duplicate.message.contains("more than once"))
        let syntax = try #require(error("serve:\n  port: [1\n"))
        #expect(syntax.line > 0)
    }

    @Test func flagsOverrideTheFile() throws {
        let config = try ConfigFile.parse(
            "serve:\n  port: 9000\n  host: 0.0.0.0\n  log_level: debug\n  metrics_public: true\n"
                + "  upstream: {openai: 'http://127.0.0.1:1/v1'}\n",
            file: "t.yaml")
        var flags = ServeOptions()
        flags.port = 9100
        flags.metricsPublic = false
        flags.upstream = ["openai=http://127.0.0.1:2/v1"]
        let merged = config.serve.overridden(by: flags)
        #expect(merged.port == 9100)
        #expect(merged.host == "0.0.0.0")
        #expect(merged.logLevel == "debug")
        #expect(merged.metricsPublic == false)
        #expect(merged.upstream == ["openai=http://127.0.0.1:1/v1", "openai=http://127.0.0.1:2/v1"])
    }

    @Test func applyingTwiceChangesNothingAndAChangedSettingIsUpdated() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let config = try ConfigFile.load(path: Self.example)
        let first = try await harness.gateway.apply(config.declarations)
        #expect(
            Set(first.created) == [
                "account acme", "gateway acme/prod", "gateway acme/staging", "custom provider acme/local-llm",
                "price openai/gpt-4o-2024-11-20", "price acme/openai/gpt-4o-mini",
            ])
        let before = try await StrictInputTests.snapshot(harness)
        let second = try await harness.gateway.apply(config.declarations)
        #expect(!second.changed, "\(second)")
        #expect(second.unchanged == 6)
        #expect(try await StrictInputTests.snapshot(harness) == before)

        // One changed setting: that gateway is updated, nothing else.
        let text = try String(contentsOfFile: Self.example, encoding: .utf8)
            .replacingOccurrences(of: "cache_ttl: 300", with: "cache_ttl: 600")
        let changed = try ConfigFile.parse(text, file: "changed.yaml")
        let third = try await harness.gateway.apply(changed.declarations)
        #expect(third.created.isEmpty)
        #expect(third.updated == ["gateway acme/prod"])
        let gateway = try await harness.api("/api/v1/accounts/acme/gateways/prod")
        #expect(gateway.text.contains("\"cache_ttl\":600"), "\(gateway.text)")
        try await harness.stop()
    }
}
