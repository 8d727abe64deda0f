/// Calendar months in UTC, as Unix millisecond bounds: billing periods, quotas and monthly reports use them.
public enum UTCMonth {
    static let dayMs: Int64 = 86_400_000

    /// The first instant (Unix ms) of the UTC month holding `milliseconds`.
    public static func start(of milliseconds: Int64) -> Int64 {
        let days = milliseconds >= 0 ? milliseconds / dayMs : (milliseconds - dayMs + 1) / dayMs
        let date = RFC3339.civil(fromDays: days)
        return RFC3339.days(fromCivil: date.year, date.month, 1) * dayMs
    }

    /// The first instant of the month after the one starting at `start`.
    public static func next(after start: Int64) -> Int64 {
        let date = RFC3339.civil(fromDays: start / dayMs)
        let (year, month) = date.month == 12 ? (date.year + 1, Int64(1)) : (date.year, date.month + 1)
        return RFC3339.days(fromCivil: year, month, 1) * dayMs
    }

    /// The first instant of the month before the one starting at `start`.
    public static func previous(before start: Int64) -> Int64 {
        let date = RFC3339.civil(fromDays: start / dayMs)
        let (year, month) = date.month == 1 ? (date.year - 1, Int64(12)) : (date.year, date.month - 1)
        return RFC3339.days(fromCivil: year, month, 1) * dayMs
    }

    /// `YYYY-MM` → the month's first instant; nil when malformed.
    public static func parse(_ text: String) -> Int64? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let year = Int64(parts[0]),
            let month = Int64(parts[1]), (1...12).contains(month), year >= 1970
        else { return nil }
        return RFC3339.days(fromCivil: year, month, 1) * dayMs
    }

    /// The month starting at `start` as `YYYY-MM`.
    public static func name(_ start: Int64) -> String {
        let date = RFC3339.civil(fromDays: start / dayMs)
        let month = date.month < 10 ? "0\(date.month)" : "\(date.month)"
        return "\(date.year)-\(month)"
    }
}
