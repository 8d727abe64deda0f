import Glibc
import Logging
import Synchronization
import TollgateModel

@testable import TollgateStorage

/// A fresh folder under the system temp dir, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        var template = Array("/tmp/tollgate-segment-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func remove() {
        _ = removeTree(path)
    }

    private func removeTree(_ path: String) -> Int32 {
        if let names = try? SegmentDirectory.list(path) {
            for name in names { _ = removeTree(path + "/" + name) }
            return rmdir(path)
        }
        return unlink(path)
    }

    var segments: String { path + "/segments" }
    func segmentPath(_ sequence: UInt32) -> String { segments + "/" + SegmentFormat.fileName(sequence) }
}

/// A settable clock for rotation by age.
final class TestClock: Sendable {
    private let millis: Atomic<Int64>
    init(_ start: Int64 = 1_000_000) { millis = Atomic(start) }
    var now: Int64 { millis.load(ordering: .relaxed) }
    func advance(by delta: Int64) { millis.add(delta, ordering: .relaxed) }
    var function: @Sendable () -> Int64 { { [self] in self.now } }
    var clock: TollgateClock { TollgateClock(wallMilliseconds: function) }
}

let quietLogger: Logger = {
    var logger = Logger(label: "tollgate.segment.test")
    logger.logLevel = .critical
    return logger
}()

func readFile(_ path: String) throws -> [UInt8] { try SegmentDirectory.readWhole(path) }

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try SegmentDirectory.remove(path)
    let file = try SegmentFile.create(path)
    try file.write(bytes, at: 0)
}

func fileSize(_ path: String) throws -> UInt64 { try SegmentFile.openForReading(path).size() }

/// Makes fixture-like log records: OpenAI chat completions and Anthropic messages, JSON request and response bodies
/// of about 1–3 KB with varied text, realistic headers and usage.
struct RecordFactory {
    var random: SplitMix64
    let ids = LogIDGenerator()
    var clock: Int64 = 1_764_000_000_000

    /// The system prompts of the applications behind the gateway: an application sends the same one with every
    /// request, so a store sees a handful of them over and over.
    var appPrompts: [String] = []
    /// When true, every record gets a system prompt of its own (the least compressible traffic).
    var uniquePrompts = false
    /// The long instructions of the applications that send long prompts.
    var longPrompts: [String] = []

    init(seed: UInt64 = 42, uniquePrompts: Bool = false) {
        random = SplitMix64(seed: seed)
        self.uniquePrompts = uniquePrompts
        for _ in 0..<6 { appPrompts.append(text(words: 30 + Int(random.next() % 90))) }
    }

    static let words: [String] = """
        the of and to in is that it for as with was on be by this are or from at an which but not have has had \
        can will would should could may might model token request response stream cache prompt system user \
        assistant function tool call result value data error retry latency budget cost gateway provider account \
        summary analysis report customer order invoice payment refund shipping delivery address product price \
        discount inventory warehouse schedule meeting agenda project deadline milestone release version feature bug \
        issue ticket support question answer explain describe compare translate write draft review improve \
        optimize refactor test deploy monitor alert metric dashboard query database table index schema migration \
        backup restore network server client connection timeout protocol header body json field string number \
        boolean array object list item first second third next previous final step plan goal reason because \
        however therefore although while during after before between within without about around against \
        important critical simple complex quick detailed clear concise accurate relevant useful helpful specific \
        general example instance case scenario context information knowledge document section paragraph sentence \
        word character language english french german spanish japanese python swift rust javascript typescript \
        code snippet library package module class method variable constant loop condition branch merge commit \
        history log record entry line file folder path permission user group role policy rule limit quota rate \
        minute hour day week month year today tomorrow yesterday morning evening weather temperature city country \
        travel flight hotel booking reservation restaurant menu recipe ingredient cooking baking chicken rice \
        vegetables salad soup dessert coffee tea water health exercise sleep energy focus learning teaching \
        student teacher course lesson chapter book author story character plot theme music song artist album
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)

    static let models = [
        ("openai", "gpt-4o-mini", "/chat/completions"), ("openai", "gpt-4.1", "/chat/completions"),
        ("openai", "o4-mini", "/responses"), ("anthropic", "claude-sonnet-4-20250514", "/v1/messages"),
        ("anthropic", "claude-3-5-haiku-20241022", "/v1/messages"),
        ("groq", "llama-3.3-70b-versatile", "/chat/completions"),
    ]

    mutating func word() -> String {
        // Skewed towards the first words, like natural text.
        let u = Double(random.next() % 1_000_000) / 1_000_000
        return Self.words[Int(u * u * Double(Self.words.count))]
    }

    mutating func text(words count: Int) -> String {
        var out = ""
        for i in 0..<count {
            var w = word()
            if i == 0 || random.next() % 12 == 0 { w = w.prefix(1).uppercased() + w.dropFirst() }
            out += (i == 0 ? "" : " ") + w
            if random.next() % 14 == 0 { out += random.next() % 3 == 0 ? "," : "." }
        }
        return out + "."
    }

    mutating func hex(_ n: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<n).map { _ in digits[Int(random.next() % 16)] })
    }

    mutating func alnum(_ n: Int) -> String {
        let digits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<n).map { _ in digits[Int(random.next() % UInt64(digits.count))] })
    }

    mutating func record() -> LogRecord {
        clock += Int64(random.next() % 500)
        let (provider, model, path) = Self.models[Int(random.next() % UInt64(Self.models.count))]
        let stream = random.next() % 4 == 0
        let promptWords = 20 + Int(random.next() % 150)
        let answerWords = 30 + Int(random.next() % 220)
        let system =
            uniquePrompts
            ? text(words: 30 + Int(random.next() % 90)) : appPrompts[Int(random.next() % UInt64(appPrompts.count))]
        let question = text(words: promptWords)
        let answer = text(words: answerWords)
        let tokensIn = Int64(promptWords * 4 / 3 + 20)
        let tokensOut = Int64(answerWords * 4 / 3)
        let cached = random.next() % 3 == 0 ? Int64(random.next() % 64) * 64 : 0
        let created = clock / 1000
        let request: String
        let response: String
        if provider == "anthropic" {
            request = """
                {"model":"\(model)","max_tokens":1024,"system":"\(system)","messages":[{"role":"user","content":"\(question)"}]\(stream ? ",\"stream\":true" : "")}
                """
            response = """
                {"id":"msg_01\(alnum(22))","type":"message","role":"assistant","model":"\(model)","content":[{"type":"text","text":"\(answer)"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":\(tokensIn - cached),"cache_creation_input_tokens":0,"cache_read_input_tokens":\(cached),"output_tokens":\(tokensOut),"service_tier":"standard"}}
                """
        } else {
            request = """
                {"model":"\(model)","messages":[{"role":"system","content":"\(system)"},{"role":"user","content":"\(question)"}],"temperature":0.\(random.next() % 10)\(stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}" : "")}
                """
            response = """
                {"id":"chatcmpl-\(alnum(29))","object":"chat.completion","created":\(created),"model":"\(model)-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"\(answer)","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":\(tokensIn),"completion_tokens":\(tokensOut),"total_tokens":\(tokensIn + tokensOut),"prompt_tokens_details":{"cached_tokens":\(cached),"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_\(hex(10))"}
                """
        }
        let requestHeaders: HeaderList = [
            Header("content-type", "application/json"), Header("accept", "application/json"),
            Header("user-agent", "OpenAI/Python 1.\(random.next() % 60).0"), Header("x-stainless-lang", "python"),
            Header("x-stainless-runtime-version", "3.12.\(random.next() % 8)"),
        ]
        let responseHeaders: HeaderList = [
            Header("content-type", "application/json"),
            Header("date", "Tue, 25 Nov 2025 13:\(10 + random.next() % 50):\(10 + random.next() % 50) GMT"),
            Header("x-request-id", "req_\(hex(32))"), Header("openai-processing-ms", "\(200 + random.next() % 3000)"),
            Header("x-ratelimit-remaining-requests", "\(9000 + random.next() % 999)"),
            Header("cf-cache-status", "DYNAMIC"),
        ]
        let duration = Int64(200_000 + random.next() % 3_000_000)
        return LogRecord(
            id: ids.next(millisecondsSinceEpoch: clock), createdAt: clock, account: "default",
            gateway: random.next() % 5 == 0 ? "staging" : "prod", provider: provider, model: model, path: path,
            method: "POST", statusCode: 200, success: true, stream: stream, durationMicros: duration,
            ttftMicros: duration / 3,
            usage: Usage(tokensIn: tokensIn, cachedTokensIn: cached, tokensOut: tokensOut, reasoningTokens: 0),
            requestSize: Int64(request.utf8.count), responseSize: Int64(response.utf8.count),
            metadata: random.next() % 2 == 0 ? [MetadataEntry("user", .string("u-\(random.next() % 100)"))] : [],
            requestHeaders: requestHeaders, responseHeaders: responseHeaders,
            requestBody: Array(request.utf8), responseBody: Array(response.utf8))
    }

    /// A record with a long prompt, as agents and chats with pasted documents send: the application's long
    /// instructions (the same in each of its requests) and 60–150 KB of text of the user's own.
    mutating func longRecord() -> LogRecord {
        if longPrompts.isEmpty {
            for _ in 0..<4 { longPrompts.append(text(words: 800 + Int(random.next() % 700))) }
        }
        var record = record()
        let instructions = longPrompts[Int(random.next() % UInt64(longPrompts.count))]
        let document = text(words: 9_000 + Int(random.next() % 13_000))
        let request = """
            {"model":"\(record.model ?? "")","messages":[{"role":"system","content":"\(instructions)"},{"role":"user","content":"Here is the document:\\n\(document)"}],"temperature":0.2}
            """
        record.requestBody = Array(request.utf8)
        record.requestSize = Int64(record.requestBody.count)
        return record
    }

    /// Size of the record as raw JSON: bodies plus headers as a JSON object.
    static func rawJSONSize(_ r: LogRecord) -> Int {
        let headers = (Array(r.requestHeaders) + Array(r.responseHeaders)).reduce(0) {
            $0 + $1.name.utf8.count + $1.value.utf8.count + 6
        }
        return r.requestBody.count + r.responseBody.count + headers + 4
    }
}

extension LogRecord {
    /// Puts in use, by `i % 5`, fields a `RecordFactory` record leaves at their defaults: metadata entries and a
    /// custom cost; the controls' fields and an error; a refused usage record without payload; no usage, model or
    /// bodies (0: none). The record codec's golden bytes (`RecordCodecTests.encodingBytesStayTheSame`) depend on it.
    mutating func useRarerFields(_ i: Int) {
        switch i % 5 {
        case 1:
            metadata = [
                MetadataEntry("user", .string("alice-\(i)")), MetadataEntry("n", .number(Double(i) / 3)),
                MetadataEntry("flag", .bool(i % 2 == 0)),
            ]
            customCost = i % 2 == 0 ? .total(Int64(i) * 1_000_003) : .perToken(input: 17, output: -3)
        case 2:
            eventID = "event-\(i)"
            attempt = 2 + i % 3
            step = i % 4
            cached = true
            error = "upstream said «no» \(i) 😱"
        case 3:
            refusal = .spendLimitExceeded
            logged = false
            payloadStored = false
            usage.serviceTier = "priority"
            ttftMicros = -Int64(i)
        case 4:
            usage = Usage()
            model = nil
            requestBody = []
            responseBody = []
        default: break
        }
    }
}
