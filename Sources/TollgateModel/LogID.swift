import Foundation
import Synchronization

/// A log record's id: a UUIDv7 (RFC 9562), so ids sort by creation time.
///
/// Layout: 48 bits of Unix milliseconds, version 7, 12 bits of sub-millisecond sequence, variant, 62 random bits.
/// Within one process ids generated in the same millisecond still increase (the 12-bit counter), so an id order
/// is a creation order.
public struct LogID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Milliseconds since the Unix epoch encoded in the id.
    public var milliseconds: Int64 { Int64(bitPattern: high >> 16) }

    /// The smallest id of a millisecond (every other bit zero): `id >= lowerBound(t)` ⇔ the id was made at or after
    /// `t`, so time ranges over ids are byte ranges.
    public static func lowerBound(milliseconds: Int64) -> LogID {
        LogID(high: UInt64(max(0, min(milliseconds, (1 << 48) - 1))) << 16, low: 0)
    }

    public static func < (a: LogID, b: LogID) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }

    /// The 16 bytes, big-endian (the UUID byte order).
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i)))
            out[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i)))
        }
        return out
    }

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var h: UInt64 = 0
        var l: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
        }
        self.init(high: h, low: l)
    }

    /// Lowercase, hyphenated: `0190a6f2-7c1e-7d3a-9b2f-1c2d3e4f5a6b`.
    public var description: String {
        // Written straight into the string's storage: one allocation, nothing to validate (every byte is ASCII).
        String(unsafeUninitializedCapacity: Self.textBytes) { out in
            write(to: out.baseAddress!)
            return Self.textBytes
        }
    }

    /// The bytes of the hyphenated form (`description`).
    public static let textBytes = 36

    /// Writes the hyphenated form's `textBytes` bytes at `out` (a response header written without a `String`): eight
    /// hex digits at a time, computed in a word (`hexDigits`), rather than two per byte of the id.
    public func write(to out: UnsafeMutablePointer<UInt8>) {
        let raw = UnsafeMutableRawPointer(out)
        raw.storeBytes(of: Self.hexDigits(UInt32(truncatingIfNeeded: high >> 32)), toByteOffset: 0, as: UInt64.self)
        raw.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 8, as: UInt8.self)
        raw.storeBytes(of: Self.hexDigits4(UInt16(truncatingIfNeeded: high >> 16)), toByteOffset: 9, as: UInt32.self)
        raw.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 13, as: UInt8.self)
        raw.storeBytes(of: Self.hexDigits4(UInt16(truncatingIfNeeded: high)), toByteOffset: 14, as: UInt32.self)
        raw.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 18, as: UInt8.self)
        raw.storeBytes(of: Self.hexDigits4(UInt16(truncatingIfNeeded: low >> 48)), toByteOffset: 19, as: UInt32.self)
        raw.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 23, as: UInt8.self)
        raw.storeBytes(of: Self.hexDigits(UInt32(truncatingIfNeeded: low >> 16)), toByteOffset: 24, as: UInt64.self)
        raw.storeBytes(of: Self.hexDigits4(UInt16(truncatingIfNeeded: low)), toByteOffset: 32, as: UInt32.self)
    }

    /// The eight lowercase hex digits of `value`, most significant first, as the bytes of a word in memory order:
    /// each nibble spread into a byte of its own, then `0`–`9` or `a`–`f` added to all eight at once.
    @inline(__always)
    static func hexDigits(_ value: UInt32) -> UInt64 {
        var x = UInt64(value)
        x = (x | x << 16) & 0x0000_FFFF_0000_FFFF
        x = (x | x << 8) & 0x00FF_00FF_00FF_00FF
        x = (x | x << 4) & 0x0F0F_0F0F_0F0F_0F0F
        // A nibble of 10 or more carries into bit 4 of its byte when 6 is added: those take `a`–`f`.
        let letters = ((x &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        let ascii = x &+ 0x3030_3030_3030_3030 &+ letters &* 39
        // The most significant nibble is in the top byte: swapped, it comes first in memory.
        return UInt64(littleEndian: ascii.byteSwapped)
    }

    /// The four lowercase hex digits of `value`, as `hexDigits` gives them.
    @inline(__always)
    static func hexDigits4(_ value: UInt16) -> UInt32 {
        UInt32(truncatingIfNeeded: UInt64(littleEndian: hexDigits(UInt32(value))) >> 32).littleEndian
    }

    /// Parses the hyphenated form (either case). Returns nil for anything else.
    public init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 36 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        var i = 0
        while i < 36 {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard utf8[i] == UInt8(ascii: "-") else { return nil }
                i += 1
                continue
            }
            guard let hi = Self.nibble(utf8[i]), let lo = Self.nibble(utf8[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
            i += 2
        }
        self.init(bytes: bytes)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Makes monotonically increasing UUIDv7 ids. Thread-safe; share one per process.
///
/// The random bits come from the system's generator 512 bytes at a time (`arc4random_buf`, one `getrandom` call on
/// Linux), not 8 bytes per call as `SystemRandomNumberGenerator` reads them: an id made on an event loop for every
/// request cost two system calls.
public final class LogIDGenerator: Sendable {
    private struct State {
        var lastMillis: Int64 = 0
        var sequence: UInt64 = 0
        var random = RandomWords()
    }

    /// Random words read from the system's generator in bulk, handed out one at a time.
    struct RandomWords {
        private var words = [UInt64](repeating: 0, count: 64)
        private var next = 64

        mutating func take() -> UInt64 {
            if next == words.count {
                words.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
                next = 0
            }
            defer { next += 1 }
            return words[next]
        }
    }
    private let state = Mutex(State())

    public init() {}

    /// A new id for the given time (defaults to now).
    public func next(millisecondsSinceEpoch now: Int64 = TollgateClock.system.wallMilliseconds()) -> LogID {
        let (millis, seq, random) = state.withLock { s -> (Int64, UInt64, UInt64) in
            if now > s.lastMillis {
                s.lastMillis = now
                s.sequence = s.random.take() & 0x3FF  // leave room to count up within the millisecond
            } else {
                s.sequence += 1
                if s.sequence > 0xFFF {  // 4096 ids in one millisecond: borrow the next millisecond
                    s.lastMillis += 1
                    s.sequence = 0
                }
            }
            return (s.lastMillis, s.sequence, s.random.take())
        }
        let high = UInt64(bitPattern: millis) << 16 | 0x7000 | seq
        let low = (random & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return LogID(high: high, low: low)
    }
}
