import TollgateModel

/// The versioned price table: every row of every model, looked up by provider, model, service tier and time.
///
/// Old rows stay when prices change; a request is priced by the row in force at its `created_at`.
///
/// Model matching, in order: the model id as the request or response named it; then with a date suffix removed
/// (`-2024-07-18`, `-20250929`, `-0613`), so dated snapshots price as their base model
/// (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`); then with a `models/` prefix removed (Gemini). Nothing else — a
/// model that matches no row is unpriced, never guessed from a similar name.
public struct PriceTable: Sendable {
    private struct Key: Hashable {
        var provider: String
        var model: String
        var serviceTier: String
    }
    /// Rows per key, sorted by `effectiveFrom`.
    private var rows: [Key: [PriceRow]] = [:]
    /// Whether a model's earliest row also prices requests made before its `effectiveFrom`.
    public let extendsFirstRowBack: Bool

    /// - Parameter extendsFirstRowBack: true for a public price list, whose dates say when a price was read, not
    ///   when it began: a request older than a model's first row is priced by that row rather than left unpriced.
    ///   False for negotiated prices, which apply from their date only.
    public init(_ rows: [PriceRow], extendsFirstRowBack: Bool = false) {
        self.extendsFirstRowBack = extendsFirstRowBack
        for row in rows {
            self.rows[Key(provider: row.provider, model: row.model, serviceTier: row.serviceTier), default: []]
                .append(row)
        }
        for key in self.rows.keys { self.rows[key]!.sort { $0.effectiveFrom < $1.effectiveFrom } }
    }

    public var count: Int { rows.values.reduce(0) { $0 + $1.count } }

    /// Every row, by provider, model, tier and date.
    public var allRows: [PriceRow] {
        rows.values.joined().sorted {
            ($0.provider, $0.model, $0.serviceTier, $0.effectiveFrom) < (
                $1.provider, $1.model, $1.serviceTier, $1.effectiveFrom
            )
        }
    }

    /// The row in force at `at` (Unix ms) for the model, in the service tier if it has rows for that tier, else the
    /// default tier. Nil when no row matches: the request is unpriced.
    public func row(provider: String, model: String, serviceTier: String? = nil, at: Int64) -> PriceRow? {
        lookup(provider: provider, model: model, serviceTier: serviceTier).row(at: at)
    }

    /// The rows `row(provider:model:serviceTier:at:)` reads for the model, found once: which of them is in force
    /// then depends on the time alone, so a caller pricing many records of one model keeps this and asks it.
    public func lookup(provider: String, model: String, serviceTier: String? = nil) -> Lookup {
        var chain: [[PriceRow]] = []
        for candidate in Self.candidates(for: model) {
            if let tier = serviceTier, tier != "default",
                let rows = rows[Key(provider: provider, model: candidate, serviceTier: tier)]
            {
                chain.append(rows)
            }
            if let rows = rows[Key(provider: provider, model: candidate, serviceTier: "default")] { chain.append(rows) }
        }
        return Lookup(chain: chain, extendsFirstRowBack: extendsFirstRowBack)
    }

    /// A model's rows in the order a lookup tries them: for each id the model may be priced under (`candidates`),
    /// the service tier's rows, then the default tier's; each sorted by `effectiveFrom`.
    public struct Lookup: Sendable {
        fileprivate let chain: [[PriceRow]]
        fileprivate let extendsFirstRowBack: Bool

        /// Where the first row in force at `at` along the chain is; nil when none is (the request is unpriced).
        public func position(at: Int64) -> Position? {
            for (list, rows) in chain.enumerated() {
                // Rows are sorted by date: the last one in force at `at`, read from the newest back.
                var index = rows.count - 1
                while index >= 0 && rows[index].effectiveFrom > at { index -= 1 }
                if index >= 0 { return Position(list: list, index: index) }
                if extendsFirstRowBack && !rows.isEmpty { return Position(list: list, index: 0) }
            }
            return nil
        }

        /// The first row in force at `at` along the chain; nil when none is (the request is unpriced).
        public func row(at: Int64) -> PriceRow? {
            position(at: at).map { chain[$0.list][$0.index] }
        }

        /// What `usage` costs under the row at `position` (`CostCalculator`), read in place.
        public func cost(of usage: Usage, at position: Position) -> Money? {
            // Through a pointer: an array's element handed to a function is copied first (each of the row's strings
            // retained, then released).
            chain[position.list].withUnsafeBufferPointer {
                CostCalculator.cost(of: usage, under: $0.baseAddress! + position.index)
            }
        }

        /// A row's place in the chain.
        public struct Position: Sendable {
            fileprivate let list: Int
            fileprivate let index: Int
        }
    }

    /// When the provider stopped serving the model (Unix ms): the earliest `retired` date of the rows the model
    /// matches (dated snapshots and `models/` ids as in `row`), in any tier; nil while it is served or unknown.
    public func retirement(provider: String, model: String) -> Int64? {
        for candidate in Self.candidates(for: model) {
            let dates = rows.filter { $0.key.provider == provider && $0.key.model == candidate }.values.joined()
                .compactMap(\.retired)
            if let earliest = dates.min() { return earliest }
            if rows.keys.contains(where: { $0.provider == provider && $0.model == candidate }) { return nil }
        }
        return nil
    }

    /// The cost of a record's usage, or nil when its model is unpriced or its tokens are unknown.
    public func cost(provider: String, model: String?, usage: Usage, at: Int64) -> Money? {
        guard let model, let row = row(provider: provider, model: model, serviceTier: usage.serviceTier, at: at) else {
            return nil
        }
        return CostCalculator.cost(of: usage, under: row)
    }

    /// The ids to try for a model, most specific first.
    static func candidates(for model: String) -> [String] {
        var out = [model]
        var base = model
        if base.hasPrefix("models/") {
            base.removeFirst("models/".count)
            out.append(base)
        }
        if let stripped = withoutDateSuffix(base), !out.contains(stripped) { out.append(stripped) }
        return out
    }

    /// `name-2024-07-18`, `name-20250929` or `name-0613` → `name`; nil when there is no such suffix.
    static func withoutDateSuffix(_ model: String) -> String? {
        // Read as bytes (every record is priced): the last three dashes, from the end.
        let utf8 = model.utf8
        var last: String.Index?
        var second: String.Index?
        var third: String.Index?
        var i = utf8.endIndex
        while i > utf8.startIndex {
            utf8.formIndex(before: &i)
            guard utf8[i] == UInt8(ascii: "-") else { continue }
            if last == nil {
                last = i
            } else if second == nil {
                second = i
            } else {
                third = i
                break
            }
        }
        /// Whether the part after the dash at `dash` and before `end` is `n` ASCII digits.
        func isDigits(after dash: String.Index, to end: String.Index, _ n: Int) -> Bool {
            let part = utf8[utf8.index(after: dash)..<end]
            return part.count == n && part.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        }
        if let last, let second, let third, isDigits(after: third, to: second, 4), isDigits(after: second, to: last, 2),
            isDigits(after: last, to: utf8.endIndex, 2)
        {
            return String(model[..<third])
        }
        if let last, isDigits(after: last, to: utf8.endIndex, 8) || isDigits(after: last, to: utf8.endIndex, 4) {
            return String(model[..<last])
        }
        return nil
    }
}
