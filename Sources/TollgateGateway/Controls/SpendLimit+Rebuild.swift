import TollgateAnalytics
import TollgateModel
import TollgateStorage

extension TrafficControls {
    /// Rebuilds the spend counters of every gateway with spend limits from the costs already stored, so a restart
    /// (or a `kill -9`) does not hand out a fresh budget.
    ///
    /// A rule not scoped by metadata is rebuilt from the rollups, which count every request, logged or not: by the
    /// minute for windows up to two days, by the hour beyond, each bucket's cost placed at the bucket's end (so it
    /// leaves a sliding window no earlier than its requests did). A rule scoped by metadata needs each request's
    /// metadata, which only logs keep: it is rebuilt from the log index, without the requests stored as usage only
    /// (`collect_logs: false`, a log quota used up). Returns the number of rules rebuilt.
    @discardableResult
    public func rebuildSpend(_ entries: [GatewayDirectory.Entry], rollups: RollupEngine, catalog: Catalog) throws -> Int
    {
        let instant = now()
        var rebuilt = 0
        for entry in entries {
            guard let limits = entry.policy.spendLimits, limits.enabled else { continue }
            for rule in limits.rules where rule.enabled {
                let window = Int64(rule.window) * 1000
                let from =
                    rule.technique == .fixed ? BudgetWindow.floor(instant, window) : instant - window + 1
                if rule.metadata.isEmpty {
                    try rebuildFromRollups(rule, entry, from: from, until: instant, rollups: rollups)
                } else {
                    try rebuildFromLogs(rule, entry, from: from, until: instant, catalog: catalog)
                }
                rebuilt += 1
            }
        }
        return rebuilt
    }

    private func rebuildFromRollups(
        _ rule: SpendLimits.Rule, _ entry: GatewayDirectory.Entry, from: Int64, until now: Int64,
        rollups: RollupEngine
    ) throws {
        let minute: Int64 = 60_000
        let interval: UsageInterval = rule.window <= 2 * 86_400 ? .minute : .hour
        let step: Int64 = interval == .minute ? minute : 3_600_000
        let start = BudgetWindow.floor(from, step)
        let end = BudgetWindow.floor(now, minute) + minute
        let result = try rollups.usage(
            UsageQuery(
                account: entry.account, from: start, to: end, interval: interval,
                groupBy: [.gateway, .provider, .model], measures: .cost))
        for row in result.rows where row.group.gateway == entry.gateway {
            spend.add(
                row.values.cost, to: rule, account: entry.account, gateway: entry.gateway,
                SpendLimits.Request(provider: row.group.provider ?? "", model: row.group.model ?? ""),
                at: min(row.bucketStart + step - 1, now))
        }
    }

    private func rebuildFromLogs(
        _ rule: SpendLimits.Rule, _ entry: GatewayDirectory.Entry, from: Int64, until now: Int64, catalog: Catalog
    ) throws {
        var query = LogQuery(account: entry.account, order: .ascending)
        query.gateway = entry.gateway
        query.from = from
        query.to = now + 1
        query.limit = 1000
        repeat {
            let page = try catalog.listLogs(query)
            for log in page.entries {
                guard let cost = log.cost, cost > 0 else { continue }
                spend.add(
                    Money(picodollars: Int128(cost)), to: rule, account: entry.account, gateway: entry.gateway,
                    SpendLimits.Request(
                        provider: log.provider, model: log.model ?? "", metadata: Self.texts(log.metadata)),
                    at: log.createdAt)
            }
            query.cursor = page.nextCursor
        } while query.cursor != nil
    }
}
