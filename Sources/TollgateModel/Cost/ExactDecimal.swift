/// Decimal text ↔ scaled integers, exactly: `"0.15"` at scale 6 is 150,000; `"3e-6"` at scale 12 is 3,000,000.
///
/// Money in Tollgate is never a binary float: prices and costs are integers of a fixed unit (picodollars,
/// 10⁻¹² USD), and every decimal that enters (a price list, a JSON header) is parsed straight into that unit.
public enum ExactDecimal {
    /// `text` × 10^scale as an integer: plain (`-12.5`) or with an exponent (`1.5e-7`, `2E3`). Nil when malformed,
    /// when the value has more decimals than `scale` can hold (nothing is rounded), or when it is out of range.
    public static func scaled(_ text: some StringProtocol, scale: Int) -> Int128? {
        var mantissa = Substring(text)
        var exponent = 0
        if let e = mantissa.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            var digits = mantissa[mantissa.index(after: e)...]
            var negative = false
            if digits.first == "+" || digits.first == "-" {
                negative = digits.first == "-"
                digits = digits.dropFirst()
            }
            guard !digits.isEmpty, digits.count <= 4, digits.allSatisfy(\.isASCIIDigit), let value = Int(digits)
            else { return nil }
            exponent = negative ? -value : value
            mantissa = mantissa[..<e]
        }
        var bytes = mantissa.utf8[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            bytes = bytes.dropFirst()
        }
        var value: Int128 = 0
        var decimals = -1
        var digits = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard decimals < 0 else { return nil }
                decimals = 0
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            if decimals >= 0 { decimals += 1 }
            if value != 0 || byte != UInt8(ascii: "0") { digits += 1 }
            guard digits <= 30 else { return nil }
            value = value * 10 + Int128(byte - UInt8(ascii: "0"))
        }
        guard !bytes.isEmpty, decimals != 0, bytes.contains(where: { $0 != UInt8(ascii: ".") }) else { return nil }
        // value × 10^(scale − decimals + exponent), exact or nil.
        var shift = scale - max(decimals, 0) + exponent
        while shift < 0 {
            guard value % 10 == 0 else { return nil }
            value /= 10
            shift += 1
        }
        guard shift <= 38 else { return value == 0 ? 0 : nil }
        for _ in 0..<shift {
            let (product, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            value = product
        }
        return negative ? -value : value
    }

    /// `value` / 10^scale as plain decimal text, trailing zeros removed: (375, 12) → `0.000000000375`.
    public static func text(_ value: Int128, scale: Int) -> String {
        var unit: Int128 = 1
        for _ in 0..<scale { unit *= 10 }
        let negative = value < 0
        let magnitude = negative ? -value : value
        let whole = magnitude / unit
        var fraction = String(magnitude % unit)
        fraction = String(repeating: "0", count: max(0, scale - fraction.count)) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return (negative ? "-" : "") + String(whole) + (fraction.isEmpty ? "" : "." + fraction)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
