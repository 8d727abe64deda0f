import TollgateModel

extension LogStore {
    /// Checks that the catalog and the segments agree, reading every segment: every log in the index is a record
    /// at its location with its id and account, every stored log record that is not deleted is in the index at its
    /// location, no segment holds a frame that does not verify, and every annotation belongs to an indexed log.
    /// Returns what disagrees (empty when all agrees).
    ///
    /// Takes the writer lock (no append interleaves) and writes the writer's buffer out first; appended records not
    /// yet committed may be unindexed. An expensive invariant check, for tests and diagnosis.
    public func indexDisagreements() throws -> [String] {
        try state.withLock { state -> [String] in
            var problems: [String] = []
            if !state.writer.needsRepair { try state.writer.flush() }
            var stored: [LogID: (account: String, location: RecordLocation)] = [:]
            for segment in try reader.segments() {
                let deleted = try catalog.tombstones(segment: segment)
                do {
                    try reader.forEachRecord(in: segment) { location, record in
                        guard record.logged, !deleted.contains(LogKey(account: record.account, id: record.id)) else {
                            return
                        }
                        stored[record.id] = (record.account, location)
                    }
                } catch {
                    problems.append("segment \(segment) does not read back: \(error)")
                }
            }
            let pending = Set(((state.inFlight?.logs ?? []) + state.pending).map(\.entry.id))
            var accounts = Set(stored.values.map(\.account))
            for account in try catalog.accounts() { accounts.insert(account.id) }
            var indexed = 0
            for account in accounts.sorted() {
                var query = LogQuery(account: account, order: .ascending, limit: LogQuery.limits.upperBound)
                while true {
                    let page = try catalog.listLogs(query)
                    for entry in page.entries {
                        indexed += 1
                        guard let found = stored[entry.id] else {
                            problems.append("log \(entry.id) is indexed at \(entry.location) but not stored")
                            continue
                        }
                        if found.location != entry.location || found.account != account {
                            problems.append(
                                "log \(entry.id) is indexed at \(entry.location) but stored at \(found.location)")
                        }
                        stored[entry.id] = nil
                    }
                    guard let next = page.nextCursor else { break }
                    query.cursor = next
                }
            }
            for (id, found) in stored where !pending.contains(id) {
                problems.append("log \(id) is stored at \(found.location) but not indexed")
            }
            let orphaned = try catalog.orphanedAnnotations()
            if orphaned > 0 { problems.append("\(orphaned) annotations belong to no indexed log") }
            return problems
        }
    }
}
