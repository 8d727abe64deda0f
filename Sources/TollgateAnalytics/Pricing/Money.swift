import TollgateModel

/// An exact amount of US dollars: an integer count of picodollars (10⁻¹² USD).
///
/// Per-token prices of every public price list (USD per 1M tokens with at most six decimals) are whole
/// picodollars, so a cost is tokens × price with no rounding at all, and sums of costs are exact. `Int128` holds
/// 1.7 × 10²⁶ USD, so no total overflows.
public struct Money: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var picodollars: Int128

    public init(picodollars: Int128) {
        self.picodollars = picodollars
    }

    public static let zero = Money(picodollars: 0)
    static let picodollarsPerDollar: Int128 = 1_000_000_000_000

    public static func + (a: Money, b: Money) -> Money { Money(picodollars: a.picodollars + b.picodollars) }
    public static func += (a: inout Money, b: Money) { a.picodollars += b.picodollars }
    public static func - (a: Money, b: Money) -> Money { Money(picodollars: a.picodollars - b.picodollars) }
    public static func < (a: Money, b: Money) -> Bool { a.picodollars < b.picodollars }

    /// Parses a plain decimal USD amount (`12`, `0.15`, `-3.000001`) with at most 12 decimals, exactly.
    public init?(usd text: some StringProtocol) {
        guard let value = Self.parseDecimal(text, scale: 12) else { return nil }
        self.init(picodollars: value)
    }

    /// The amount in USD at full precision, trailing zeros removed: `0.000000375`, `12`, `-1.5`.
    public var usd: String { ExactDecimal.text(picodollars, scale: 12) }

    public var description: String { "$" + usd }

    /// A decimal string as an integer scaled by 10^scale; nil when malformed or more precise than `scale`.
    static func parseDecimal(_ text: some StringProtocol, scale: Int) -> Int128? {
        ExactDecimal.scaled(text, scale: scale)
    }
}
