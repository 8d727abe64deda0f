import ArgumentParser

@main
struct Tollgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "A self-hosted AI gateway: forwarding proxy, log store and cost accounting.",
        subcommands: [
            ServeCommand.self, ReportCommand.self, GenerateCommand.self, ExportCommand.self, RepriceCommand.self,
            RebuildRollupsCommand.self, CompactCommand.self, MockProviderCommand.self, RoutesCommand.self,
            ReferenceCommand.self,
            OpenAPICommand.self,
        ]
    )
}
