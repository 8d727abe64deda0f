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
        let decoded = PercentDecoding.decoded(name.utf8, plusIsSpace: true)
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
}
