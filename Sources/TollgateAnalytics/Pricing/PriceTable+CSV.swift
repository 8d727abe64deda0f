import TollgateModel

extension PriceTable {
    /// A CSV problem, naming the line and column.
    public struct CSVError: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "prices CSV line \(line): \(message)" }
    }

    /// The columns of the price CSV (`prices.csv`; PRICES.md describes them). USD per 1M tokens, plain decimals.
    static let columns = [
        "provider", "model", "service_tier", "effective_from", "input", "output", "cached_input", "cache_write_5m",
        "cache_write_1h", "reasoning", "batch_input", "batch_output", "prompt_threshold", "input_above",
        "output_above", "cached_input_above", "cache_write_5m_above", "cache_write_1h_above", "source", "retrieved",
    ]

    /// Parses the price CSV. Every row must be valid; the first bad cell fails the whole table, so a typo in a
    /// price never silently prices requests wrong.
    public init(csv text: String) throws(CSVError) {
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard let header = lines.first else { throw CSVError(line: 1, message: "empty file") }
        lines.removeFirst()
        let names = header.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard names == Self.columns else {
            throw CSVError(line: 1, message: "header must be: \(Self.columns.joined(separator: ","))")
        }
        var rows: [PriceRow] = []
        for (index, line) in lines.enumerated() where !line.allSatisfy(\.isWhitespace) {
            let number = index + 2
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard cells.count == names.count else {
                throw CSVError(line: number, message: "expected \(names.count) cells, found \(cells.count)")
            }
            func cell(_ name: String) -> String { cells[Self.columns.firstIndex(of: name)!] }
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
                return PriceRow.Rates(
                    input: input, output: output, cachedInput: try price("cached_input" + suffix),
                    cacheWrite5m: try price("cache_write_5m" + suffix),
                    cacheWrite1h: try price("cache_write_1h" + suffix),
                    reasoning: suffix.isEmpty ? try price("reasoning") : nil)
            }
            guard !cell("provider").isEmpty, !cell("model").isEmpty else {
                throw CSVError(line: number, message: "provider and model are required")
            }
            guard let from = RFC3339.parse(cell("effective_from") + "T00:00:00Z") else {
                throw CSVError(line: number, message: "effective_from: expected YYYY-MM-DD")
            }
            var threshold: Int64?
            if !cell("prompt_threshold").isEmpty {
                guard let value = Int64(cell("prompt_threshold")), value > 0 else {
                    throw CSVError(line: number, message: "prompt_threshold: expected a token count")
                }
                threshold = value
            }
            let above = try rates("_above", required: threshold != nil)
            if above != nil && threshold == nil {
                throw CSVError(line: number, message: "prices above a threshold need prompt_threshold")
            }
            let tier = cell("service_tier").isEmpty ? "default" : cell("service_tier")
            rows.append(
                PriceRow(
                    provider: cell("provider"), model: cell("model"), serviceTier: tier, effectiveFrom: from,
                    rates: try rates("", required: true)!, promptThreshold: threshold, ratesAbove: above,
                    batchInput: try price("batch_input"), batchOutput: try price("batch_output"),
                    source: cell("source")))
        }
        self.init(rows)
    }
}

extension PriceTable {
    /// The price list shipped in the binary (`Pricing/prices.csv`, embedded at build time).
    public static func shipped() throws(CSVError) -> PriceTable {
        try PriceTable(csv: String(decoding: PackageResources.prices_csv, as: UTF8.self))
    }
}
