import ArgumentParser
import TollgateConfig
import TollgateGateway

/// `tollgate reference TABLE`: a README reference block, written from the declaration the code itself uses, so the
/// README cannot drift from it (`scripts/api-reference.sh` rewrites every block; a test compares them).
struct ReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Print a reference table (Markdown): api-routes, gateway-settings, headers or config-keys.")

    /// Each block: its name (the README marker's) and what writes it.
    static let blocks: [(name: String, text: @Sendable () -> String)] = [
        ("api-routes", { APIRouter.markdownReference() }),
        ("gateway-settings", { APIRouter.gatewaySettingsTable() }),
        ("headers", { GatewayHeader.markdownTable() }),
        ("config-keys", { ServeOptions.markdownTable() }),
    ]

    @Argument(help: "api-routes, gateway-settings, headers or config-keys.")
    var table: String

    func run() throws {
        guard let block = Self.blocks.first(where: { $0.name == table }) else {
            throw ValidationError("unknown table \(table); expected \(Self.blocks.map(\.name).joined(separator: ", "))")
        }
        print(block.text(), terminator: "")
    }
}
