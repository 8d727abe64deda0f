import ArgumentParser

@main
struct Tollgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "A self-hosted AI gateway: forwarding proxy, log store and cost accounting.",
        subcommands: [
            ServeCommand.self, GenerateCommand.self, RepriceCommand.self, ExportCommand.self, MockProviderCommand.self,
        ]
    )
}
