import TollgateModel

extension PriceTable {
    /// A CSV problem, naming the line and column.
    public struct CSVError: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "prices CSV line \(line): \(message)" }
    }

    /// The columns of the price CSV (`prices.csv`; PRICES.md describes them). USD per 1M tokens, plain decimals;
    /// `request_fee` in USD per 1,000 requests; dates `YYYY-MM-DD`.
    static let columns = [
        "provider", "model", "service_tier", "effective_from", "retired", "input", "output", "cached_input",
        "cache_write", "cache_write_5m", "cache_write_1h", "reasoning", "batch_input", "batch_output",
        "batch_cached_input", "prompt_threshold", "input_above", "output_above", "cached_input_above",
        "cache_write_above", "cache_write_5m_above", "cache_write_1h_above", "batch_input_above",
        "batch_output_above", "batch_cached_input_above", "request_fee", "source", "retrieved", "unconfirmed",
    ]

    /// The price columns that have a higher-band counterpart (`<name>_above`).
    static let bandedColumns = [
        "input", "output", "cached_input", "cache_write", "cache_write_5m", "cache_write_1h", "batch_input",
        "batch_output", "batch_cached_input",
    ]

    /// The data lines of a price CSV as cells by column name, each with its line number. Throws when the header is
    /// not `columns` or a line has the wrong number of cells.
    static func cells(csv text: String) throws(CSVError) -> [(line: Int, cells: [String: String])] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        guard let header = lines.first, !header.isEmpty else { throw CSVError(line: 1, message: "empty file") }
        lines.removeFirst()
        let names = header.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard names == Self.columns else {
            throw CSVError(line: 1, message: "header must be: \(Self.columns.joined(separator: ","))")
        }
        var rows: [(line: Int, cells: [String: String])] = []
        for (index, line) in lines.enumerated() where !line.allSatisfy(\.isWhitespace) {
            let number = index + 2
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard cells.count == names.count else {
                throw CSVError(line: number, message: "expected \(names.count) cells, found \(cells.count)")
            }
            rows.append((number, Dictionary(uniqueKeysWithValues: zip(names, cells))))
        }
        return rows
    }

    /// Parses the price CSV. Every row must be valid; the first bad cell fails the whole table, so a typo in a
    /// price never silently prices requests wrong.
    public init(csv text: String) throws(CSVError) {
        var rows: [PriceRow] = []
        for (number, cells) in try Self.cells(csv: text) {
            rows.append(try Self.row(cells, line: number))
        }
        self.init(rows)
    }

    static func date(_ text: String) -> Int64? {
        guard text.count == 10 else { return nil }
        return RFC3339.parse(text + "T00:00:00Z")
    }

    /// One CSV row as a price row.
    static func row(_ cells: [String: String], line number: Int) throws(CSVError) -> PriceRow {
        func cell(_ name: String) -> String { cells[name] ?? "" }
        func price(_ name: String) throws(CSVError) -> Money? {
            let text = cell(name)
            if text.isEmpty { return nil }
            guard let money = PriceRow.perToken(usdPerMillion: text), money.picodollars >= 0 else {
                throw CSVError(line: number, message: "\(name): not a price in USD per 1M tokens: \(text)")
            }
            return money
        }
        func rates(_ suffix: String, required: Bool) throws(CSVError) -> PriceRow.Rates? {
            let input = try price("input" + suffix)
            var output = try price("output" + suffix)
            if suffix.isEmpty {
                // Embedding models print one price: an empty `output` means no output tokens are billed (0 per
                // token; embeddings produce none). `input` stays required. A band (`_above`) still needs both.
                guard input != nil else { throw CSVError(line: number, message: "input is required") }
                output = output ?? .zero
            }
            guard let input, let output else {
                if required || input != nil || output != nil {
                    throw CSVError(line: number, message: "input\(suffix) and output\(suffix) are both required")
                }
                return nil
            }
            let rates = PriceRow.Rates(
                input: input, output: output, cachedInput: try price("cached_input" + suffix),
                cacheWrite: try price("cache_write" + suffix), cacheWrite5m: try price("cache_write_5m" + suffix),
                cacheWrite1h: try price("cache_write_1h" + suffix),
                reasoning: suffix.isEmpty ? try price("reasoning") : nil)
            if rates.cacheWrite != nil && (rates.cacheWrite5m != nil || rates.cacheWrite1h != nil) {
                throw CSVError(
                    line: number,
                    message: "cache_write\(suffix) (writes without a TTL) and the TTL columns exclude each other")
            }
            return rates
        }
        guard !cell("provider").isEmpty, !cell("model").isEmpty else {
            throw CSVError(line: number, message: "provider and model are required")
        }
        guard let from = date(cell("effective_from")) else {
            throw CSVError(line: number, message: "effective_from: expected YYYY-MM-DD")
        }
        var retired: Int64?
        if !cell("retired").isEmpty {
            guard let value = date(cell("retired")) else {
                throw CSVError(line: number, message: "retired: expected YYYY-MM-DD")
            }
            retired = value
        }
        var threshold: Int64?
        if !cell("prompt_threshold").isEmpty {
            guard let value = Int64(cell("prompt_threshold")), value > 0 else {
                throw CSVError(line: number, message: "prompt_threshold: expected a token count")
            }
            threshold = value
        }
        let above = try rates("_above", required: threshold != nil)
        let batchAbove = [try price("batch_input_above"), try price("batch_output_above")]
        if (above != nil || batchAbove.contains { $0 != nil }) && threshold == nil {
            throw CSVError(line: number, message: "prices above a threshold need prompt_threshold")
        }
        var fee: Money?
        if !cell("request_fee").isEmpty {
            guard let value = PriceRow.perRequest(usdPerThousand: cell("request_fee")), value.picodollars >= 0 else {
                throw CSVError(line: number, message: "request_fee: not a price in USD per 1,000 requests")
            }
            fee = value
        }
        let tier = cell("service_tier").isEmpty ? "default" : cell("service_tier")
        return PriceRow(
            provider: cell("provider"), model: cell("model"), serviceTier: tier, effectiveFrom: from,
            rates: try rates("", required: true)!, promptThreshold: threshold, ratesAbove: above,
            batchInput: try price("batch_input"), batchOutput: try price("batch_output"),
            batchCachedInput: try price("batch_cached_input"), batchInputAbove: batchAbove[0],
            batchOutputAbove: batchAbove[1], batchCachedInputAbove: try price("batch_cached_input_above"),
            requestFee: fee, retired: retired, source: cell("source"), retrieved: cell("retrieved"))
    }
}

extension PriceTable {
    /// What a price list must hold beyond well-formed prices, checked before it ships: one problem per line.
    ///
    /// - every row names its source (an `https://` URL) and the day it was read (`retrieved`, `YYYY-MM-DD`);
    /// - no two rows share (provider, model, service tier, effective_from): the price in force would be ambiguous;
    /// - a row with a `prompt_threshold` prices every token class it prices below the threshold above it too
    ///   (`cached_input` → `cached_input_above`, …), unless `unconfirmed` names that higher-band cell: then its
    ///   tokens take the higher-band input rate, and PRICES.md says why the cell is empty;
    /// - `unconfirmed` lists cell names of the row (`;`-separated), or `*` for a row copied from a transcription of
    ///   the provider's page rather than read on the page itself.
    public static func audit(csv text: String) -> [String] {
        let rows: [(line: Int, cells: [String: String])]
        do { rows = try cells(csv: text) } catch { return [error.description] }
        var problems: [String] = []
        var seen: [String: Int] = [:]
        for (line, cells) in rows {
            func cell(_ name: String) -> String { cells[name] ?? "" }
            func problem(_ text: String) {
                problems.append("line \(line) (\(cell("provider")) \(cell("model"))): \(text)")
            }
            do { _ = try row(cells, line: line) } catch { problems.append(error.description) }
            if !cell("source").hasPrefix("https://") { problem("no source URL") }
            if date(cell("retrieved")) == nil { problem("no read date (retrieved)") }
            let tier = cell("service_tier").isEmpty ? "default" : cell("service_tier")
            let key = [cell("provider"), cell("model"), tier, cell("effective_from")].joined(separator: "|")
            if let first = seen[key] {
                problem("overlaps line \(first): same provider, model, tier and effective_from")
            } else {
                seen[key] = line
            }
            let unconfirmed = Set(cell("unconfirmed").split(separator: ";").map(String.init))
            for name in unconfirmed where name != "*" && !columns.contains(name) {
                problem("unconfirmed names no column: \(name)")
            }
            if !cell("prompt_threshold").isEmpty {
                for name in bandedColumns where !cell(name).isEmpty {
                    let higher = name + "_above"
                    if cell(higher).isEmpty && !unconfirmed.contains(higher) {
                        problem("prompt_threshold without \(higher) (\(name) is priced below the band)")
                    }
                }
            }
        }
        return problems
    }
}

extension PriceTable {
    /// The price list shipped in the binary (`Pricing/prices.csv`, embedded at build time).
    public static func shipped() throws(CSVError) -> PriceTable {
        try PriceTable(csv: String(decoding: PackageResources.prices_csv, as: UTF8.self))
    }
}
