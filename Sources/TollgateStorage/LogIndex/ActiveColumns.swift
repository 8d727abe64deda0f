extension Catalog {
    /// The segment writer's column values of the logs a commit hands over, beside the logs themselves: the
    /// catalog's columns of a segment being written (`ActiveSegmentLogs`) take each log's fields from them as
    /// numbers, instead of reading its record's texts and looking each one up in a dictionary again, which the
    /// writer did when it appended the record.
    ///
    /// For each log, the `rowWords` words its row has in the writer's columns (`ColumnBuilder.lastRow`): each string
    /// value as its position + 1 in the writer's dictionary of that column (0 for nil), each integer's bit pattern,
    /// a word of which integers are there, a word of flags. For each run of logs appended to one writer's columns
    /// (one segment, one `ColumnBuilder.generation`), the values of its dictionaries past those handed over before,
    /// up to the furthest its logs have (`Run.added`, from position `Run.base`): the catalog keeps, by segment, the
    /// writer's values by position and which of its own codes each stands for once a log has it.
    public struct ActiveColumns: Sendable {
        static let rowWords = ColumnBuilder.Stage.rowWords
        static let presentWord = RecordField.stringColumns.count + RecordField.integerColumns.count
        static let flagsWord = presentWord + 1

        /// A run of logs appended to one writer's columns.
        struct Run: Sendable {
            let segment: UInt32
            let generation: UInt64
            /// The first log of the run, by position among the handed-over logs.
            let firstLog: Int
            /// By string column, the writer's position of the first value in `added`.
            let base: [Int]
            /// By string column, the writer's values from `base` on, up to the furthest the run's logs have.
            var added: [[String]]
        }

        /// `rowWords` a log, in the order of the logs, then room for more (zeros).
        private(set) var words: [UInt64] = []
        /// The logs handed over.
        private(set) var count = 0
        private(set) var runs: [Run] = []
        /// The writer's columns of the last run.
        private var runGeneration: UInt64?
        /// The writer's columns the last log came from, and how many values of each string column its runs gave.
        private var generation: UInt64?
        private var known = [Int](repeating: 0, count: RecordField.stringColumns.count)

        public init() {}

        /// Adds the log that the last row of the writer's columns `columns` points to is (appended just now). The
        /// columns are read where they lie: passed by value, they were copied (every array retained) and destroyed
        /// for each log, about 700 instructions.
        mutating func add(lastRowOf columns: UnsafePointer<ColumnBuilder>) {
            let generation = columns.pointee.generation
            if runGeneration != generation {
                if self.generation != generation {
                    self.generation = generation
                    for slot in known.indices { known[slot] = 0 }
                }
                runs.append(
                    Run(
                        segment: columns.pointee.segment, generation: generation, firstLog: count, base: known,
                        added: [[String]](repeating: [], count: known.count)))
                runGeneration = generation
            }
            let row = count &* Self.rowWords
            if row &+ Self.rowWords > words.count {
                // Grown by doubling, in zeros the rows are then written over.
                words.append(contentsOf: repeatElement(0, count: max(words.count, 64 &* Self.rowWords)))
            }
            words.withUnsafeMutableBufferPointer { words in
                ColumnBuilder.lastRow(
                    of: columns, into: UnsafeMutableBufferPointer(rebasing: words[row..<(row &+ Self.rowWords)]))
            }
            count &+= 1
            // A value past those handed over is among the last the writer's dictionary gained: those up to it go
            // with the run (a value only usage records have had goes once a log has one after it).
            for slot in known.indices {
                let position = Int(truncatingIfNeeded: words[row &+ slot])
                guard position > known[slot] else { continue }
                runs[runs.count - 1].added[slot].append(
                    contentsOf: ColumnBuilder.values(of: columns, slot: slot, from: known[slot], to: position))
                known[slot] = position
            }
        }

        /// The logs of run `run`, by position among the handed-over logs.
        func logs(of run: Int) -> Range<Int> {
            runs[run].firstLog..<(run + 1 < runs.count ? runs[run + 1].firstLog : count)
        }

        /// Forgets the logs handed over (the writer's columns they came from are remembered: the next run of them
        /// gives only the values gained since).
        mutating func removeAll() {
            count = 0
            runs.removeAll(keepingCapacity: true)
            runGeneration = nil
        }

        /// Forgets the last `logs` logs (lost in a failed write). The values their runs gave are forgotten with them
        /// when whole runs go, and the catalog then reads the logs of those columns from their records.
        mutating func removeLast(_ logs: Int) {
            count -= logs
            let count = count
            runs.removeAll { $0.firstLog >= count }
            runGeneration = runs.last?.generation
        }
    }
}
