import ArgumentParser
import Foundation
import TollgateAnalytics
import TollgateModel
import TollgateStorage

/// `tollgate report`: the monthly cost report of an account, from the data folder's rollups (the gateway may be
/// running: this only reads).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Print an account's monthly cost report (Markdown, CSV or JSON).")

    enum Format: String, ExpressibleByArgument, CaseIterable { case md, csv, json }

    @OptionGroup var data: DataFolderOptions
    @Option(help: "Account to report on.") var account: String
    @Option(help: "Month, YYYY-MM (UTC; default: this month).") var month: String?
    @Option(help: "md, csv or json.") var format: Format = .md

    func run() throws {
        let monthStart =
            try month.map { try parseMonth($0).start }
            ?? UTCMonth.start(of: TollgateClock.system.wallMilliseconds())
        let catalog = try Catalog(dataDirectory: data.path, logger: DataFolderOptions.logger())
        guard let account = try catalog.account(account) else { throw ValidationError("no account \(self.account)") }
        // Read-only: retirement dates come from the price list shipped in this binary.
        let shipped = try PriceTable.shipped()
        let report = try MonthlyReport.make(
            account: account, monthStart: monthStart, rollups: try RollupEngine(catalog: catalog), catalog: catalog,
            retirement: { shipped.retirement(provider: $0, model: $1) })
        switch format {
        case .md: print(report.markdown(), terminator: "")
        case .csv: print(report.csv(), terminator: "")
        case .json: print(report.json())
        }
    }
}

/// `tollgate rebuild-rollups`: regenerate every rollup from the segments and the usage archives of dropped
/// segments (after a change of rollup rules, or to check them). The result equals the rollups kept at ingest.
struct RebuildRollupsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild-rollups",
        abstract: "Regenerate the usage rollups from the stored records (stop the gateway first).")

    @OptionGroup var data: DataFolderOptions

    func run() throws {
        let (ledger, store) = try Ledger.openStore(directory: data.path, logger: DataFolderOptions.logger())
        let total = try store.storedRecordCount()
        let bar = ProgressBar("rebuild-rollups", total: total)
        let folded = try ledger.catchUp(store, rebuild: true) { bar.update($0) }
        bar.finish(folded)
        try store.close()
        Output.line("rebuilt the rollups from \(folded) records")
    }
}
