#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Removes secrets from headers before they are stored.
///
/// A sensitive header keeps its (lowercased) name and gets the value `REDACTED`: the log still shows that the
/// client sent credentials, which is what one debugs, and no byte of the secret is kept. Sensitive are
/// `authorization`, `x-api-key`, `api-key`, `cookie`, `set-cookie`, `cf-aig-authorization`, `x-goog-api-key`, and
/// every name containing `key`, `token`, `secret`, `auth`, `cookie`, `signature`, `password` or `credential`
/// (ASCII case-insensitive).
///
/// One exception keeps debugging 429s possible: rate-limit headers (`x-ratelimit-remaining-tokens`,
/// `anthropic-ratelimit-input-tokens-reset`, …) name tokens but carry counts, durations and timestamps. A name
/// containing `ratelimit` whose value is at most 40 bytes of digits, `.:-+`, `T`, `Z` and the unit letters
/// `d h m s` is kept; any other value under such a name is redacted like the rest.
public enum HeaderRedaction {
    public static let marker = "REDACTED"
    static let markerBytes = Array(marker.utf8)

    /// True when a header of this name is stored redacted (the rate-limit exception aside).
    public static func isSensitive(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { isSensitive($0) }
    }

    /// One pass over the name, trying only the fragments that start with the byte at hand.
    static func isSensitive(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        scan(name).sensitive
    }

    /// One pass over a name: whether it has an ASCII capital letter, and whether it is sensitive. The fragments are
    /// all letters, so a byte matches a fragment's letter ignoring case exactly when `byte | 0x20` equals it.
    @inline(__always)
    static func scan(_ name: UnsafeBufferPointer<UInt8>) -> (upper: Bool, sensitive: Bool) {
        guard let p = name.baseAddress else { return (false, false) }
        let n = name.count
        var upper = false
        var sensitive = false
        var i = 0
        while i < n {
            let c = p[i]
            if c &- UInt8(ascii: "A") < 26 { upper = true }
            if !sensitive {
                switch c | 0x20 {
                case UInt8(ascii: "k"): sensitive = matches(p, n, at: i, "key")
                case UInt8(ascii: "t"): sensitive = matches(p, n, at: i, "token")
                case UInt8(ascii: "s"): sensitive = matches(p, n, at: i, "secret") || matches(p, n, at: i, "signature")
                case UInt8(ascii: "a"): sensitive = matches(p, n, at: i, "auth")
                case UInt8(ascii: "c"):
                    sensitive = matches(p, n, at: i, "cookie") || matches(p, n, at: i, "credential")
                case UInt8(ascii: "p"): sensitive = matches(p, n, at: i, "password")
                default: break
                }
            }
            i += 1
        }
        return (upper, sensitive)
    }

    /// Whether `p[at...]` (of `n` bytes) starts with the lowercase letters of `literal`, ignoring ASCII case.
    @inline(__always)
    private static func matches(_ p: UnsafePointer<UInt8>, _ n: Int, at: Int, _ literal: StaticString) -> Bool {
        let k = literal.utf8CodeUnitCount
        guard n - at >= k else { return false }
        let l = literal.utf8Start
        for j in 0..<k where p[at + j] | 0x20 != l[j] { return false }
        return true
    }

    /// The header as stored: lowercased name, and the value or `REDACTED`.
    public static func redacted(name: String, value: String) -> Header {
        let stored = name.utf8.withContiguousStorageIfAvailable { bytes -> Header? in
            let (upper, sensitive) = scan(bytes)
            if !sensitive && !upper { return Header(name, value) }
            let lower = upper ? ASCII.lowercased(bytes) : name
            if !sensitive { return Header(lower, value) }
            if ASCII.contains(bytes, "ratelimit"), isRateLimitValue(value) { return Header(lower, value) }
            return Header(lower, marker)
        }
        if let stored = stored ?? nil { return stored }
        // A name without contiguous UTF-8 (bridged): the plain way.
        let lower = ASCII.lowercased(name)
        var bytes = lower
        let (sensitive, rateLimit) = bytes.withUTF8 { (isSensitive($0), ASCII.contains($0, "ratelimit")) }
        guard sensitive else { return Header(lower, value) }
        if rateLimit, isRateLimitValue(value) { return Header(lower, value) }
        return Header(lower, marker)
    }

    public static func redact(_ headers: [(name: String, value: String)]) -> HeaderList {
        var memo = NameMemo()
        return memo.redact(headers)
    }

    /// The most bytes `headers` take in a `HeaderList`, redacted or not.
    static func packedBound(_ headers: [(name: String, value: String)]) -> Int {
        var size = 0
        for i in headers.indices {
            size += HeaderList.bound(headers[i].name.utf8.count, max(headers[i].value.utf8.count, marker.utf8.count))
        }
        return size
    }

    /// What `redacted(name:value:)` decided for the names seen lately, so a name that comes again is not scanned
    /// again: a provider sends the same header names on every response, and a client much the same on every request.
    /// A fixed table of 128 names in pairs of slots (the pair from the name's length and three of its bytes; a new
    /// name takes the place of the pair's name used less recently, so two names that hash alike — `server` and
    /// `cf-aig-log-id` do — are both kept rather than replacing each other on every response); names longer than 128
    /// bytes are never kept. One per thread that redacts (the store's), passed `inout`.
    ///
    /// Headers are redacted into a `HeaderList` as bytes. A response's headers come packed as they arrived (the
    /// proxy packs the upstream's fields from their bytes), so a header kept as it came — a lowercase name that is
    /// not sensitive — is its message copied. Each slot also keeps the header it last packed from strings (a
    /// request's), copied again when the next one has the same value (or, redacted, any value).
    public struct NameMemo {
        private static let slotCount = 128
        private static let maxNameBytes = 128
        /// Longer headers are packed each time, not kept.
        private static let maxMessageBytes = 256

        private struct Slot {
            /// The name as it came, and as stored (lowercased; `lowercase`: the same bytes).
            var name: [UInt8] = []
            var stored: [UInt8] = []
            var lowercase = true
            var kind = Kind.empty
            /// The header this slot's name was last packed in from strings: its value's bytes, whether it was kept,
            /// and its message (empty: none kept).
            var value: [UInt8] = []
            var kept = false
            var message: [UInt8] = []
            /// Of the two slots a name may take, this one was used last: the other is refilled on a miss.
            var recent = false
        }

        private enum Kind: UInt8 {
            case empty
            case kept
            case sensitive
            /// Sensitive, but the name contains `ratelimit`: its value may still be kept.
            case rateLimit
        }

        private var slots = [Slot](repeating: Slot(), count: NameMemo.slotCount)

        public init() {}

        /// The same header as `HeaderRedaction.redacted(name:value:)` gives.
        public mutating func redacted(name: String, value: String) -> Header {
            var nameCopy = name
            var valueCopy = value
            return slots.withUnsafeMutableBufferPointer { slots in
                nameCopy.withUTF8 { nameBytes in
                    valueCopy.withUTF8 { valueBytes in
                        guard let slot = Self.slot(of: nameBytes, in: slots) else {
                            return HeaderRedaction.redacted(name: name, value: value)
                        }
                        let stored = String(decoding: slots[slot].stored, as: UTF8.self)
                        return Header(stored, Self.keeps(slots[slot].kind, valueBytes) ? value : marker)
                    }
                }
            }
        }

        /// Headers given as strings (a request's), as stored.
        public mutating func redact(_ headers: [(name: String, value: String)]) -> HeaderList {
            HeaderList.packing(bound: HeaderRedaction.packedBound(headers)) { packer in
                slots.withUnsafeMutableBufferPointer { slots in
                    for header in headers {
                        var name = header.name
                        var value = header.value
                        name.withUTF8 { name in
                            value.withUTF8 { value in Self.pack(name, value, cached: true, slots, &packer) }
                        }
                    }
                }
            }
        }

        /// Headers packed as they came (a response's, unredacted), as stored.
        ///
        /// A provider's response usually keeps every header as it came (lowercase names, nothing secret but rate
        /// limits' counts, which are kept): then the list itself is the answer, and nothing is packed again.
        public mutating func redact(_ headers: HeaderList) -> HeaderList {
            if keepsEveryHeader(of: headers) { return headers }
            // Room for each header packed again (`HeaderList.bound`) with its value replaced by the marker.
            let bound = headers.bytes.count + headers.count * HeaderList.bound(0, markerBytes.count)
            return HeaderList.packing(bound: bound) { packer in
                slots.withUnsafeMutableBufferPointer { slots in
                    headers.forEachHeader { message, name, value in
                        if let slot = Self.slot(of: name, in: slots), slots[slot].kind == .kept, slots[slot].lowercase {
                            packer.append(message: message)
                        } else {
                            Self.pack(name, value, cached: false, slots, &packer)
                        }
                    }
                }
            }
        }

        /// Whether every header of `headers` is stored as it came: its name in lowercase already and its value
        /// kept (`pack` would write the same message again).
        private mutating func keepsEveryHeader(of headers: HeaderList) -> Bool {
            slots.withUnsafeMutableBufferPointer { slots in
                var every = true
                headers.forEachHeader { _, name, value in
                    guard every else { return }
                    guard let slot = Self.slot(of: name, in: slots), slots[slot].lowercase,
                        Self.keeps(slots[slot].kind, value)
                    else {
                        every = false
                        return
                    }
                }
                return every
            }
        }

        /// Packs one header as stored; `cached`: from the slot's last header when it is the same, keeping this one.
        private static func pack(
            _ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>, cached: Bool,
            _ slots: UnsafeMutableBufferPointer<Slot>, _ packer: inout HeaderList.Packer
        ) {
            guard let slot = slot(of: name, in: slots) else {
                let header = HeaderRedaction.redacted(
                    name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
                packer.append(name: header.name, value: header.value)
                return
            }
            let keep = keeps(slots[slot].kind, value)
            if cached && !slots[slot].message.isEmpty && slots[slot].kept == keep
                && (!keep || holds(slots[slot].value, value))
            {
                slots[slot].message.withUnsafeBufferPointer { packer.append(message: $0) }
                return
            }
            let start = packer.count
            slots[slot].stored.withUnsafeBufferPointer { stored in
                if keep {
                    packer.append(name: stored, value: value)
                } else {
                    markerBytes.withUnsafeBufferPointer { packer.append(name: stored, value: $0) }
                }
            }
            guard cached else { return }
            let message = packer.packed(from: start)
            slots[slot].message.removeAll(keepingCapacity: true)
            guard message.count <= maxMessageBytes else { return }
            slots[slot].message.append(contentsOf: message)
            slots[slot].value.removeAll(keepingCapacity: true)
            slots[slot].value.append(contentsOf: value)
            slots[slot].kept = keep
        }

        /// The slot that holds the decision for the name `bytes`, filled now if it held another name; nil for a name
        /// that is not kept (empty or too long). A name may take either slot of a pair (its hash's, and that one with
        /// the lowest bit flipped), so two names of one request or response that hash alike both stay; a third
        /// replaces the one of the pair used less recently.
        private static func slot(of bytes: UnsafeBufferPointer<UInt8>, in slots: UnsafeMutableBufferPointer<Slot>)
            -> Int?
        {
            let n = bytes.count
            guard n > 0, n <= maxNameBytes else { return nil }
            let home =
                (n &* 31 &+ Int(bytes[0]) &* 7 &+ Int(bytes[n &>> 1]) &* 3 &+ Int(bytes[n &- 1])) & (slotCount &- 1)
            let other = home ^ 1
            if slots[home].kind != .empty && holds(slots[home].name, bytes) {
                return use(home, over: other, in: slots)
            }
            if slots[other].kind != .empty && holds(slots[other].name, bytes) {
                return use(other, over: home, in: slots)
            }
            let slot =
                slots[home].kind == .empty
                ? home : slots[other].kind == .empty ? other : slots[home].recent ? other : home
            let (upper, sensitive) = scan(bytes)
            slots[slot].name = Array(bytes)
            slots[slot].stored = upper ? bytes.map(ASCII.lower) : slots[slot].name
            slots[slot].lowercase = !upper
            slots[slot].kind = !sensitive ? .kept : ASCII.contains(bytes, "ratelimit") ? .rateLimit : .sensitive
            slots[slot].message.removeAll(keepingCapacity: true)
            return use(slot, over: slot ^ 1, in: slots)
        }

        @inline(__always)
        private static func use(_ slot: Int, over partner: Int, in slots: UnsafeMutableBufferPointer<Slot>) -> Int {
            slots[slot].recent = true
            slots[partner].recent = false
            return slot
        }

        /// Whether `kept` (a slot's name or value) holds exactly `bytes`: one `memcmp`, not a generic walk of two
        /// sequences.
        @inline(__always)
        private static func holds(_ kept: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            guard kept.count == bytes.count else { return false }
            guard let other = bytes.baseAddress, !bytes.isEmpty else { return true }
            return kept.withUnsafeBufferPointer { memcmp($0.baseAddress!, other, bytes.count) == 0 }
        }

        /// Whether a header of this kind of name keeps `value`.
        private static func keeps(_ kind: Kind, _ value: UnsafeBufferPointer<UInt8>) -> Bool {
            switch kind {
            case .kept: true
            case .rateLimit: value.count <= 40 && isRateLimitValue(value)
            default: false
            }
        }
    }

    private static func isRateLimitValue(_ value: String) -> Bool {
        guard value.utf8.count <= 40 else { return false }
        if let plain = value.utf8.withContiguousStorageIfAvailable({ isRateLimitValue($0) }) { return plain }
        return isRateLimitValue(Array(value.utf8))
    }

    private static func isRateLimitValue(_ value: some Collection<UInt8>) -> Bool {
        for c in value {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "-"),
                UInt8(ascii: "+"), UInt8(ascii: "T"), UInt8(ascii: "Z"), UInt8(ascii: "d"), UInt8(ascii: "h"),
                UInt8(ascii: "m"), UInt8(ascii: "s"), UInt8(ascii: " "):
                continue
            default: return false
            }
        }
        return true
    }
}

/// ASCII helpers that do not allocate for the common already-lowercase case.
enum ASCII {
    @inline(__always)
    static func lower(_ c: UInt8) -> UInt8 {
        (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) ? c | 0x20 : c
    }

    /// `bytes` (ASCII or UTF-8) with ASCII capitals lowercased, as a new string.
    static func lowercased(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { out in
            for i in bytes.indices { out[i] = lower(bytes[i]) }
            return bytes.count
        }
    }

    static func lowercased(_ s: String) -> String {
        var utf8 = s
        return utf8.withUTF8 { bytes in
            guard bytes.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return s }
            return String(unsafeUninitializedCapacity: bytes.count) { out in
                for i in bytes.indices { out[i] = lower(bytes[i]) }
                return bytes.count
            }
        }
    }

    /// Whether `haystack[at...]` starts with the lowercase ASCII `needle`, ignoring ASCII case.
    @inline(__always)
    static func hasPrefix(_ haystack: UnsafeBufferPointer<UInt8>, at: Int, _ needle: StaticString) -> Bool {
        let n = needle.utf8CodeUnitCount
        guard haystack.count - at >= n else { return false }
        let p = needle.utf8Start
        for k in 0..<n where lower(haystack[at + k]) != p[k] { return false }
        return true
    }

    /// Whether `haystack` contains the lowercase ASCII `needle`, ignoring ASCII case.
    static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: StaticString) -> Bool {
        let n = needle.utf8CodeUnitCount
        let p = needle.utf8Start
        guard n > 0 else { return true }
        guard haystack.count >= n else { return false }
        let first = p[0]
        for start in 0...(haystack.count - n) where lower(haystack[start]) == first {
            var k = 1
            while k < n, lower(haystack[start + k]) == p[k] { k += 1 }
            if k == n { return true }
        }
        return false
    }

    /// Whether two strings are equal ignoring ASCII case. A native string's bytes are compared in place (walking its
    /// `utf8` view cost about 160 instructions a call, most of them for names of another length).
    static func equalsIgnoringCase(_ a: some StringProtocol, _ b: StaticString) -> Bool {
        let n = b.utf8CodeUnitCount
        let other = b.utf8Start
        if let equal = a.utf8.withContiguousStorageIfAvailable({ bytes -> Bool in
            guard bytes.count == n else { return false }
            for k in 0..<n where lower(bytes[k]) != lower(other[k]) { return false }
            return true
        }) {
            return equal
        }
        guard a.utf8.count == n else { return false }
        var k = 0
        for c in a.utf8 {
            if lower(c) != lower(other[k]) { return false }
            k += 1
        }
        return true
    }
}
