import Glibc

// libFuzzer entry point for the usage archive decoder (`UsageArchive.decode`, what a rollup rebuild reads in place
// of a dropped segment, and `UsageArchive.decodeEntries`, its decompressed entries), built by
// scripts/fuzz-usage-archives.sh together with its sources (not part of the SwiftPM package).
//
// Each input is read three ways: as an archive file from disk; as header fields (entry count, decompressed length)
// and a payload given a valid header, checksums and all, so arbitrary counts, lengths and zstd frames get past the
// checksums; and as an entry count and decompressed entries, decoded directly and through an archive the harness
// compresses. Nothing may crash or read out of bounds. Entries that decode must be written into an archive again
// and read back the same, and compression must change nothing. A mismatch traps on purpose.

let segment: UInt32 = 7
nonisolated(unsafe) let compressor = try! ZstdCompressor(level: 1)

func u32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    bytes.prefix(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
}

func u64(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    bytes.prefix(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
}

/// An archive file with the given header fields and payload, its checksums valid.
func archive(count: UInt32, rawLength: UInt64, payload: [UInt8]) -> [UInt8] {
    var w = WireWriter(capacity: UsageArchive.headerSize + payload.count)
    w.raw(UsageArchive.magic)
    w.u8(UsageArchive.version)
    w.raw([0, 0, 0])
    w.u32(segment)
    w.u32(count)
    w.u64(rawLength)
    w.u64(UInt64(payload.count))
    w.u32(payload.withUnsafeBytes { CRC32C.checksum($0) })
    w.u32(w.bytes.withUnsafeBytes { CRC32C.checksum($0) })
    w.raw(payload)
    return w.bytes
}

func check(_ entries: [UsageArchive.Entry]) {
    precondition(entries.allSatisfy { $0.location.segment == segment }, "an entry of another segment")
    guard !entries.isEmpty else { return }
    var builder = UsageArchive.Builder(segment: segment)
    for entry in entries { builder.append(entry.record, at: entry.location) }
    precondition((try? builder.entries()) == entries, "re-encoding changed the entries")
    let again = (try? builder.encoded()).flatMap { try? UsageArchive.decode($0, segment: segment) }
    precondition(again == entries, "an archive written again reads back differently")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // 1. The bytes as an archive file.
    if let entries = try? UsageArchive.decode(bytes, segment: segment) { check(entries) }
    guard bytes.count >= 4 else { return 0 }
    // 2. The first 12 bytes as the entry count and decompressed length, the rest as the payload, behind a valid
    // header.
    if bytes.count >= 12 {
        let file = archive(count: u32(bytes[0...]), rawLength: u64(bytes[4...]), payload: Array(bytes[12...]))
        if let entries = try? UsageArchive.decode(file, segment: segment) { check(entries) }
    }
    // 3. The first 4 bytes as the entry count, the rest as the decompressed entries: directly, and compressed into
    // an archive with a valid header.
    let count = u32(bytes[0...])
    let body = Array(bytes[4...])
    let direct = try? UsageArchive.decodeEntries(body, count: Int(count), segment: segment)
    if let compressed = try? compressor.compress(body) {
        let file = archive(count: count, rawLength: UInt64(body.count), payload: compressed)
        let archived = try? UsageArchive.decode(file, segment: segment)
        precondition(archived == direct, "compression changed the entries")
    }
    if let direct { check(direct) }
    return 0
}

/// Writes seeds into $FUZZ_SEEDS when that is set, so the fuzzer starts from real encodings: an archive file of a
/// few varied usage records, written by `UsageArchive.Builder`, and its decompressed entries behind their count.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    guard let directory = getenv("FUZZ_SEEDS") else { return 0 }
    var builder = UsageArchive.Builder(segment: segment)
    var body = WireWriter()
    for i in 0..<5 {
        var record = LogRecord(
            id: LogID(high: 0x0190_0000_0000_7000 + UInt64(i), low: 0x8000_0000_0000_0000 + UInt64(i)),
            createdAt: 1_750_000_000_000 + Int64(i), account: i == 4 ? "other" : "default",
            gateway: i % 2 == 0 ? "prod" : "edge", provider: i == 3 ? "anthropic" : "openai",
            model: i == 2 ? nil : "gpt-5", path: "/chat/completions", method: "POST", statusCode: i == 1 ? 429 : 200,
            success: i != 1, stream: i % 2 == 1, durationMicros: 1000 + Int64(i), ttftMicros: i == 2 ? nil : 10,
            usage: Usage(tokensIn: Int64(100 * i), tokensOut: 7, serviceTier: i == 3 ? "flex" : nil), requestSize: 5,
            responseSize: 6, error: nil, metadata: [])
        record.logged = false
        record.cached = i == 4
        let location = RecordLocation(segment: segment, offset: UInt64(16 + 120 * i), length: UInt32(110 + i))
        builder.append(record, at: location)
        let encoded = RecordCodec.encode(record)
        body.varint(location.offset)
        body.varint(UInt64(location.length))
        body.lengthPrefixed(encoded)
    }
    var entries = WireWriter()
    entries.u32(UInt32(builder.count))
    entries.raw(body.bytes)
    guard let file = try? builder.encoded() else { return 0 }
    var fields = WireWriter()
    fields.u32(UInt32(builder.count))
    fields.u64(UInt64(body.bytes.count))
    fields.raw(file[UsageArchive.headerSize...])
    for (name, bytes) in [("archive", file), ("fields", fields.bytes), ("entries", entries.bytes)] {
        guard let out = fopen(String(cString: directory) + "/" + name, "wb") else { continue }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, out) }
        fclose(out)
    }
    return 0
}
