import TollgateModel

/// The position after which the next page of a log listing starts: the last id returned and the listing's order.
///
/// Encoded as URL-safe base64 without padding of 18 bytes: a format version, the order, the 16 id bytes. Listing
/// continues strictly after that id in that order, so rows inserted meanwhile never shift the pages (no duplicates,
/// and nothing present when the listing started is skipped).
struct LogCursor: Hashable {
    static let version: UInt8 = 1

    var lastID: LogID
    var order: LogQuery.Order

    init(lastID: LogID, order: LogQuery.Order) {
        self.lastID = lastID
        self.order = order
    }

    var encoded: String {
        let bytes = [Self.version, order == .ascending ? 0 : 1] + lastID.bytes
        return Self.Base64URL.encode(bytes)
    }

    init?(encoded: String) {
        guard let bytes = Self.Base64URL.decode(encoded), bytes.count == 18, bytes[0] == Self.version,
            bytes[1] <= 1, let id = LogID(bytes: bytes[2...])
        else { return nil }
        self.init(lastID: id, order: bytes[1] == 0 ? .ascending : .descending)
    }
}

extension LogCursor {
    /// Base64 with the URL-safe alphabet (`-`, `_`) and no padding (RFC 4648 §5).
    enum Base64URL {
        private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

        static func encode(_ bytes: [UInt8]) -> String {
            var out: [UInt8] = []
            out.reserveCapacity((bytes.count * 4 + 2) / 3)
            var i = 0
            while i < bytes.count {
                let b0 = UInt32(bytes[i])
                let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
                let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
                let group = b0 << 16 | b1 << 8 | b2
                let remaining = bytes.count - i
                let chars = remaining >= 3 ? 4 : remaining + 1
                for k in 0..<chars { out.append(alphabet[Int(group >> (18 - 6 * UInt32(k)) & 0x3F)]) }
                i += 3
            }
            return String(decoding: out, as: UTF8.self)
        }

        static func decode(_ text: String) -> [UInt8]? {
            var values: [UInt32] = []
            for c in text.utf8 {
                switch c {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(UInt32(c - UInt8(ascii: "A")))
                case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(UInt32(c - UInt8(ascii: "a") + 26))
                case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(UInt32(c - UInt8(ascii: "0") + 52))
                case UInt8(ascii: "-"): values.append(62)
                case UInt8(ascii: "_"): values.append(63)
                default: return nil
                }
            }
            guard values.count % 4 != 1 else { return nil }
            var out: [UInt8] = []
            var i = 0
            while i < values.count {
                let n = min(4, values.count - i)
                var group: UInt32 = 0
                for k in 0..<4 { group = group << 6 | (k < n ? values[i + k] : 0) }
                let produced = n - 1
                for k in 0..<produced { out.append(UInt8(truncatingIfNeeded: group >> (16 - 8 * UInt32(k)))) }
                i += 4
            }
            // Reject non-canonical encodings (set bits past the last byte), so each cursor has one spelling.
            guard encode(out) == text else { return nil }
            return out
        }
    }
}
