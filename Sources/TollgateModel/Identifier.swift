/// Account and gateway ids: `[a-z0-9][a-z0-9-]{0,63}` — 1 to 64 bytes of lowercase ASCII letters, digits and
/// hyphens, not starting with a hyphen.
public enum Identifier {
    public static let maxLength = 64

    public static func isValid(_ id: some StringProtocol) -> Bool {
        var count = 0
        for c in id.utf8 {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): break
            case UInt8(ascii: "-") where count > 0: break
            default: return false
            }
            count += 1
            if count > maxLength { return false }
        }
        return count > 0
    }
}
