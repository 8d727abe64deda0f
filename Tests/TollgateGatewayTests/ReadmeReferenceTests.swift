import Foundation
import Testing
import TollgateConfig

@testable import TollgateGateway

/// The README's generated tables are the declarations' own text: the gateway settings (`Route.gatewaySettings`),
/// the `cf-aig-*` headers (`GatewayHeader.all`) and the configuration file's serve keys (`ServeOptions.keys`).
/// `scripts/api-reference.sh` rewrites them; this fails while one is out of date.
@Suite struct ReadmeReferenceTests {
    static func block(_ name: String) throws -> String {
        let readme = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let begin = "<!-- \(name):begin (written by `tollgate reference \(name)`) -->\n"
        let start = try #require(text.range(of: begin), "README has no \(name) block")
        let stop = try #require(text.range(of: "<!-- \(name):end -->", range: start.upperBound..<text.endIndex))
        return String(text[start.upperBound..<stop.lowerBound])
    }

    @Test(arguments: [
        ("gateway-settings", APIRouter.gatewaySettingsTable()),
        ("headers", GatewayHeader.markdownTable()),
        ("config-keys", ServeOptions.markdownTable()),
    ])
    func theREADMEBlockIsWhatTheCodeWrites(name: String, expected: String) throws {
        #expect(try Self.block(name) == expected, "README's \(name) table is out of date: run scripts/api-reference.sh")
    }

    /// Every gateway setting is a member a configuration file's gateway takes, and every serve key is read.
    @Test func theConfigurationFileTakesEverySettingTheTablesShow() throws {
        let names = Set(Declarations.Kind.gateway.memberNames)
        for field in Route.gatewaySettings { #expect(names.contains(field.name)) }
        for key in ServeOptions.keys {
            let value: String =
                switch key.kind {
                case .text: "x"
                case .integer(let range): "\(range.lowerBound)"
                case .boolean: "true"
                case .choice(let names): names[0]
                case .upstreams: "{openai: 'http://127.0.0.1:1/v1'}"
                }
            let config = try ConfigFile.parse("serve:\n  \(key.name): \(value)\n", file: "t.yaml")
            #expect(config.serve != ServeOptions(), "\(key.name) was not read")
        }
    }
}
