import ArgumentParser
import Foundation
import TollgateAnalytics
import TollgateModel

/// `tollgate reprice`: after a price row was added or corrected for a past period, recompute the costs of an
/// account's logs in that period (and their rollups) under the prices now in the table.
struct RepriceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprice",
        abstract: "Recompute the costs of an account's logs in a period (stop the gateway first, or use the API).")

    @OptionGroup var data: DataFolderOptions
    @Option(help: "Account to reprice.") var account: String
    @Option(help: "Start (inclusive): YYYY-MM-DD or RFC 3339.") var from: String
    @Option(help: "End (exclusive): YYYY-MM-DD or RFC 3339.") var to: String

    func run() throws {
        let fromMs = try parseDate(from, option: "--from")
        let toMs = try parseDate(to, option: "--to")
        guard fromMs < toMs else { throw ValidationError("--to must be after --from") }
        let (ledger, store) = try Ledger.openStore(directory: data.path, logger: DataFolderOptions.logger())
        guard try store.catalog.account(account) != nil else { throw ValidationError("no account \(account)") }
        var bar: ProgressBar?
        let result = try ledger.reprice(account: account, from: fromMs, to: toMs, store: store) {
            done, total in
            if bar == nil { bar = ProgressBar("reprice", total: total) }
            bar?.update(done)
        }
        bar?.finish(result.examined)
        try store.close()
        Output.line("repriced \(result.examined) logs of \(account): \(result.changed) changed")
    }
}
