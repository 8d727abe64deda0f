import NIOCore
import TollgateModel

/// Writes JSON straight into a `ByteBuffer`: the API renders log rows with it, without an intermediate
/// dictionary or Codable pass. The caller keeps the structure valid; strings are escaped per RFC 8259.
struct JSONWriter {
    private(set) var buffer: ByteBuffer
    /// Per open object/array: whether an element was written (a comma is due before the next).
    private var needsComma: [Bool] = []

    init(capacity: Int = 1024) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    mutating func beginObject() { separate(); buffer.writeInteger(UInt8(ascii: "{")); needsComma.append(false) }
    mutating func endObject() { needsComma.removeLast(); buffer.writeInteger(UInt8(ascii: "}")) }
    mutating func beginArray() { separate(); buffer.writeInteger(UInt8(ascii: "[")); needsComma.append(false) }
    mutating func endArray() { needsComma.removeLast(); buffer.writeInteger(UInt8(ascii: "]")) }

    /// Writes `"name":`; the value follows with one of the value writers.
    mutating func key(_ name: String) {
        separate()
        writeEscaped(name)
        buffer.writeInteger(UInt8(ascii: ":"))
        // the value that follows must not get a comma of its own
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = false }
    }

    mutating func string(_ value: String?) {
        separate()
        if let value { writeEscaped(value) } else { buffer.writeStaticString("null") }
    }
    mutating func int(_ value: Int64?) {
        separate()
        if let value { buffer.writeString(String(value)) } else { buffer.writeStaticString("null") }
    }
    mutating func int(_ value: Int) { int(Int64(value)) }
    mutating func bool(_ value: Bool?) {
        separate()
        switch value {
        case .some(true): buffer.writeStaticString("true")
        case .some(false): buffer.writeStaticString("false")
        case .none: buffer.writeStaticString("null")
        }
    }
    mutating func double(_ value: Double?) {
        separate()
        guard let value, value.isFinite else { buffer.writeStaticString("null"); return }
        if value == value.rounded(), abs(value) < 1e15 {
            buffer.writeString(String(Int64(value)))
        } else {
            buffer.writeString(String(value))
        }
    }
    /// Milliseconds from microseconds, with up to three decimals (`1234.567`).
    mutating func millis(fromMicros micros: Int64?) {
        separate()
        guard let micros else { buffer.writeStaticString("null"); return }
        let whole = micros / 1000
        let frac = abs(micros % 1000)
        if micros < 0 && whole == 0 { buffer.writeStaticString("-") }
        buffer.writeString(String(whole))
        if frac != 0 {
            var digits = String(frac)
            while digits.count < 3 { digits = "0" + digits }
            while digits.hasSuffix("0") { digits.removeLast() }
            buffer.writeString("." + digits)
        }
    }
    /// A money amount in USD as a JSON number at full precision (`0.000375`), from picodollars; null when nil.
    mutating func usd(picodollars: Int128?) {
        separate()
        guard let picodollars else { buffer.writeStaticString("null"); return }
        buffer.writeString(ExactDecimal.text(picodollars, scale: 12))
    }
    mutating func null() { separate(); buffer.writeStaticString("null") }

    private mutating func separate() {
        guard !needsComma.isEmpty else { return }
        if needsComma[needsComma.count - 1] { buffer.writeInteger(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    private mutating func writeEscaped(_ string: String) {
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeJSONEscaped(string)
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
