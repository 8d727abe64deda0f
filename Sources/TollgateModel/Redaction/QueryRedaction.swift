/// Removes secrets from a query string before it is stored with the log's path.
///
/// A parameter named `key`, or whose (percent-decoded, ASCII case-insensitive) name contains `key`, `token`,
/// `secret`, `signature`, `auth`, `password` or `credential`, keeps its name and gets the value `REDACTED`
/// (Gemini's `?key=…`, signed URLs' `X-Amz-Signature`, `access_token`). Everything else is kept byte for byte.
public enum QueryRedaction {
    static let sensitiveFragments: [StaticString] = [
        "key", "token", "secret", "signature", "auth", "password", "credential",
    ]

    public static func isSensitive(parameterName name: some StringProtocol) -> Bool {
        let decoded = percentDecoded(Array(name.utf8))
        return decoded.withUnsafeBufferPointer { buffer in
            sensitiveFragments.contains { ASCII.contains(buffer, $0) }
        }
    }

    /// The query (without `?`) with sensitive values replaced.
    public static func redact(_ query: String) -> String {
        guard !query.isEmpty else { return query }
        var changed = false
        var parts: [Substring] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: false) {
            let name = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            if isSensitive(parameterName: name) {
                parts.append(Substring(name + "=" + HeaderRedaction.marker))
                changed = true
            } else {
                parts.append(part)
            }
        }
        return changed ? parts.joined(separator: "&") : query
    }

    private static func percentDecoded(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(UInt8(ascii: "%")) || bytes.contains(UInt8(ascii: "+")) else { return bytes }
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let h = hex(bytes[i + 1]),
                let l = hex(bytes[i + 2])
            {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(bytes[i] == UInt8(ascii: "+") ? 0x20 : bytes[i])
                i += 1
            }
        }
        return out
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
