import Glibc

// libFuzzer entry point for version 1 record frames (one zstd frame per record, possibly with a dictionary:
// `RecordFrame.decode` and `RecordCodec.decode`, what `SegmentReader.read` and the segment scans do with a frame),
// built by scripts/fuzz-record-frames.sh together with the decoders' sources (not part of the SwiftPM package).
//
// Each input is read four ways: as a whole record frame read at its location (header, checksum, type, zstd,
// record encoding); as a record frame's payload framed with a valid checksum, raw and flagged compressed (so
// arbitrary zstd frames, with or without a dictionary id, reach the decompressor), and as a record encoding
// compressed by the harness without and with the dictionary; as a record encoding decoded directly; and as the
// frames of a version 1 segment after its header, scanned the way a scan or recovery does. None may crash or read
// out of bounds. What decodes must encode again to bytes that decode and encode to the same bytes (the encoder's
// output is the canonical form; arbitrary bytes with unknown fields or invalid UTF-8 are not), and framing and
// compression must change nothing. A mismatch traps on purpose.

/// Records like the ones a gateway writes: ids, names, headers, metadata, bodies, usage and the optional fields.
func sampleRecord(_ i: Int) -> LogRecord {
    var state = UInt64(i) &* 0x9E37_79B9_7F4A_7C15 &+ 1
    func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 33
    }
    let models = ["gpt-5", "gpt-5-mini", "claude-sonnet-4-5", "gemini-2.5-pro", "mistral-large"]
    let model = models[i % models.count]
    let prompt = (0..<Int(1 + next() % 6)).map { _ in "word\(next() % 97)" }.joined(separator: " ")
    let request = #"{"model":"\#(model)","messages":[{"role":"user","content":"\#(prompt)"}],"stream":false}"#
    let response =
        #"{"id":"chatcmpl-\#(next())","object":"chat.completion","model":"\#(model)","choices":[{"index":0,"#
        + #""message":{"role":"assistant","content":"\#(prompt.uppercased())"},"finish_reason":"stop"}],"#
        + #""usage":{"prompt_tokens":\#(next() % 900),"completion_tokens":\#(next() % 400)}}"#
    var metadata = [MetadataEntry("team", .string(i % 2 == 0 ? "search" : "billing"))]
    if i % 3 == 0 { metadata.append(MetadataEntry("score", .number(Double(next() % 1000) / 7))) }
    if i % 4 == 1 { metadata.append(MetadataEntry("beta", .bool(true))) }
    return LogRecord(
        id: LogID(high: 0x0190_0000_0000_7000 | UInt64(i), low: 0x8000_0000_0000_0000 | next()),
        createdAt: 1_750_000_000_000 + Int64(i) * 1337, account: i % 5 == 4 ? "other" : "default",
        gateway: i % 2 == 0 ? "prod" : "edge", provider: i % 3 == 2 ? "anthropic" : "openai",
        model: i % 7 == 6 ? nil : model, path: i % 3 == 2 ? "/v1/messages" : "/v1/chat/completions",
        method: "POST", statusCode: i % 9 == 8 ? 429 : 200, success: i % 9 != 8, stream: i % 2 == 1,
        durationMicros: Int64(next() % 5_000_000), ttftMicros: i % 2 == 1 ? Int64(next() % 900_000) : nil,
        usage: Usage(
            tokensIn: Int64(next() % 900), cachedTokensIn: i % 4 == 0 ? 64 : nil,
            cacheWriteTokens: i % 6 == 0 ? 0 : nil, cacheWrite1hTokens: i % 8 == 0 ? 128 : nil,
            tokensOut: Int64(next() % 400), reasoningTokens: i % 5 == 0 ? 12 : nil,
            serviceTier: i % 6 == 1 ? "flex" : nil),
        requestSize: Int64(request.utf8.count), responseSize: Int64(response.utf8.count),
        error: i % 9 == 8 ? "rate limited" : nil, metadata: metadata,
        requestHeaders: [Header("content-type", "application/json"), Header("user-agent", "OpenAI/Python 1.99")],
        responseHeaders: [Header("content-type", "application/json"), Header("x-request-id", "req_\(next())")],
        requestBody: Array(request.utf8), responseBody: Array(response.utf8), payloadStored: i % 11 != 10,
        customCost: i % 10 == 3 ? .total(125_000) : i % 10 == 7 ? .perToken(input: 1000, output: 2000) : nil,
        logged: i % 13 != 12, eventID: i % 4 == 3 ? "evt-\(i)" : nil, attempt: i % 4 == 3 ? 2 : 1,
        step: i % 5 == 2 ? i % 3 : nil, cached: i % 8 == 5,
        refusal: i % 9 == 8 ? (i % 2 == 0 ? .rateLimited : .spendLimitExceeded) : nil)
}

/// The store's first dictionary, trained from sample records as the writer trains it (FORMAT.md, step 2).
let dictionary = try! ZstdDictionary.train(
    samples: ZstdDictionary.Samples((0..<256).map { RecordCodec.encode(sampleRecord($0)) }), capacity: 16 * 1024,
    id: 32768)
nonisolated(unsafe) let decompressor: ZstdDecompressor = {
    let decompressor = try! ZstdDecompressor()
    try! decompressor.add(dictionary)
    return decompressor
}()
nonisolated(unsafe) let plain = try! ZstdCompressor(level: 1)
nonisolated(unsafe) let withDictionary = try! ZstdCompressor(level: 1, dictionary: dictionary)

func decompress(_ frame: UnsafeRawBufferPointer) throws -> [UInt8] {
    // Far below the reader's limit: a fuzz input must not make the harness allocate gigabytes.
    try decompressor.decompress(frame, maxContentSize: 1 << 20)
}

/// What `SegmentReader.read` does with the bytes of a version 1 record location: the frame's length, checksum and
/// type, then its payload, decompressed when flagged, decoded.
func readFrame(_ frame: UnsafeRawBufferPointer) throws -> LogRecord {
    guard let header = FrameHeader.parse(frame), header.frameLength == frame.count,
        header.verifies(
            header: frame, payload: UnsafeRawBufferPointer(rebasing: frame[SegmentFormat.frameHeaderSize...]))
    else { throw SegmentError(.corrupt, "frame does not verify") }
    guard header.type == FrameType.record.rawValue else {
        throw SegmentError(.corrupt, "frame is not a record (type \(header.type))")
    }
    return try RecordFrame.decode(
        flags: header.flags, payload: UnsafeRawBufferPointer(rebasing: frame[SegmentFormat.frameHeaderSize...]),
        decompress: decompress)
}

func readFrame(_ frame: [UInt8]) -> LogRecord? {
    frame.withUnsafeBytes { try? readFrame($0) }
}

func frame(flags: UInt8, payload: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    SegmentFormat.appendFrame(type: .record, flags: flags, payload: payload, to: &out)
    return out
}

/// A record frame as the version 1 writer makes it: compressed, or raw when compression does not make it smaller.
func writerFrame(_ encoded: [UInt8], _ compressor: ZstdCompressor) -> [UInt8] {
    let compressed = try! compressor.compress(encoded)
    return compressed.count < encoded.count
        ? frame(flags: SegmentFormat.flagCompressed, payload: compressed) : frame(flags: 0, payload: encoded)
}

/// A decoded record's encoding: it decodes again, and encodes to the same bytes.
@discardableResult
func checkRecord(_ record: LogRecord) -> [UInt8] {
    let encoded = RecordCodec.encode(record)
    guard let again = try? RecordCodec.decode(encoded) else {
        preconditionFailure("a record's encoding fails to decode")
    }
    precondition(RecordCodec.encode(again) == encoded, "re-encoding a decoded record changed its bytes")
    return encoded
}

/// Two ways of reading the same bytes agree: both fail, or both decode to records with the same encoding.
func same(_ a: LogRecord?, _ b: LogRecord?) -> Bool {
    a.map(RecordCodec.encode) == b.map(RecordCodec.encode)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // 1. The bytes as a whole record frame, read at its location.
    if let record = readFrame(bytes) { checkRecord(record) }
    // 2. The bytes as a record frame's payload with a valid checksum: raw, and flagged as a zstd frame.
    let direct = try? RecordCodec.decode(bytes)
    precondition(same(readFrame(frame(flags: 0, payload: bytes)), direct), "framing changed the record")
    if let record = readFrame(frame(flags: SegmentFormat.flagCompressed, payload: bytes)) { checkRecord(record) }
    // ... and as a record encoding the harness compresses, without and with the dictionary.
    for compressor in [plain, withDictionary] {
        guard let compressed = try? compressor.compress(bytes) else { continue }
        let viaZstd = readFrame(frame(flags: SegmentFormat.flagCompressed, payload: compressed))
        precondition(same(viaZstd, direct), "compression changed the record")
    }
    // 3. The bytes as a record encoding.
    if let direct { checkRecord(direct) }
    // 4. The bytes as the frames of a version 1 segment after its header: every record frame a scan finds reads
    // the same at its location.
    bytes.withUnsafeBytes { buffer in
        var scanner = FrameScanner(buffer, from: 0)
        while let found = scanner.next() {
            guard found.header.type == FrameType.record.rawValue else { continue }
            let scanned = try? RecordFrame.decode(
                flags: found.header.flags, payload: UnsafeRawBufferPointer(rebasing: buffer[found.payload]),
                decompress: decompress)
            let atLocation = try? readFrame(UnsafeRawBufferPointer(rebasing: buffer[found.offset..<found.end]))
            precondition(same(scanned, atLocation), "a scan and a read at the location disagree")
            if let scanned { checkRecord(scanned) }
        }
        precondition(scanner.stop != nil && scanner.position <= buffer.count, "a scan stopped without a reason")
    }
    return 0
}

/// Writes seeds into $FUZZ_SEEDS when that is set, so the fuzzer starts from real encodings of varied records:
/// record frames as the writer writes them (level 3) without and with the dictionary, raw record frames, the
/// record encodings alone, a dictionary-compressed payload alone, and a run of frames as a segment holds them.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    guard let directory = getenv("FUZZ_SEEDS") else { return 0 }
    let plain3 = try! ZstdCompressor(level: 3)
    let dictionary3 = try! ZstdCompressor(level: 3, dictionary: dictionary)
    var seeds: [(String, [UInt8])] = []
    var run: [UInt8] = []
    for i in [0, 3, 6, 8, 10, 12] {
        var record = sampleRecord(i)
        if i == 10 {
            // A usage record: no payload stored, not logged.
            record.requestBody = []
            record.responseBody = []
            record.requestHeaders = []
            record.responseHeaders = []
        }
        let encoded = RecordCodec.encode(record)
        precondition((try? RecordCodec.decode(encoded)) == record, "a sample record does not come back")
        let compressed = try! dictionary3.compress(encoded)
        for written in [writerFrame(encoded, plain3), writerFrame(encoded, dictionary3)] {
            precondition(same(readFrame(written), record), "a record frame the writer makes does not read back")
        }
        seeds += [
            ("frame-\(i)", writerFrame(encoded, plain3)), ("frame-dict-\(i)", writerFrame(encoded, dictionary3)),
            ("frame-raw-\(i)", frame(flags: 0, payload: encoded)), ("encoding-\(i)", encoded),
            ("payload-dict-\(i)", compressed),
        ]
        run += writerFrame(encoded, i % 2 == 0 ? dictionary3 : plain3)
    }
    // The smallest record: an id and defaults, raw since zstd cannot shrink it.
    let small = RecordCodec.encode(
        LogRecord(
            id: LogID(high: 1, low: 2), createdAt: 0, account: "", gateway: "", provider: "", model: nil, path: "",
            method: "", statusCode: 0, success: false, stream: false, durationMicros: 0, ttftMicros: nil,
            requestSize: 0, responseSize: 0))
    seeds += [("frame-small", writerFrame(small, plain3)), ("encoding-small", small), ("segment-frames", run)]
    for (name, bytes) in seeds {
        guard let file = fopen(String(cString: directory) + "/" + name, "wb") else { continue }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    return 0
}
