import ArgumentParser
import Foundation
import TollgateModel

/// `tollgate-bench scan`: the usage scanners the proxy runs on the bodies of a request whose log is not stored
/// (`RequestSummaryScanner`, `ResponseUsageScanner`), alone, on the benchmark's chat completion: its request body, its
/// JSON response (the mock provider's) and the same response as a stream of server-sent events. Prints CPU time per
/// body and per byte; under `valgrind --tool=callgrind` the instructions of the run over `--iterations` give a figure
/// per body that does not move with the machine's load.
struct ScanBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan", abstract: "Time the usage scanners on a chat completion's request and response bodies.")

    @Option(help: "Times each body is scanned.") var iterations = 200_000
    @Option(help: "Bytes per chunk fed to a scanner (0: the body whole).") var chunk = 0
    @Option(help: "Only this body: request, json or stream (all by default).") var body: String?

    static let request = Array(
        #"{"model":"gpt-5-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Summarise the plot of a short story about a lighthouse keeper in two sentences."}]}"#
            .utf8)

    static let response = Array(
        #"{"id":"chatcmpl-23aded151374ebb9a15c71d4d28337c4","object":"chat.completion","created":1767225600,"model":"gpt-5-mini","choices":[{"index":0,"message":{"role":"assistant","content":"This is a deterministic reply from the Tollgate mock provider.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_tollgate"}"#
            .utf8)

    static let stream: [UInt8] = {
        let words = "This is a deterministic reply from the Tollgate mock provider.".split(separator: " ")
        var events = ""
        let head = #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1767225600,"model":"gpt-5-mini","#
        for word in words {
            events +=
                "data: " + head + #""choices":[{"index":0,"delta":{"content":"\#(word) "},"finish_reason":null}],"#
                + #""usage":null}"# + "\n\n"
        }
        events +=
            "data: " + head + #""choices":[],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29}}"#
            + "\n\ndata: [DONE]\n\n"
        return Array(events.utf8)
    }()

    func run() throws {
        print("iterations: \(iterations), chunk: \(chunk == 0 ? "whole body" : "\(chunk) bytes")")
        print("| body | bytes | µs per body | ns per byte |")
        print("|---|---:|---:|---:|")
        var sink = 0
        time("request (RequestSummaryScanner)", Self.request) { bytes in
            var scanner = RequestSummaryScanner()
            feed(bytes) { scanner.feed($0) }
            sink &+= scanner.finish().model?.utf8.count ?? 0
        }
        time("JSON response (ResponseUsageScanner)", Self.response) { bytes in
            var scanner = ResponseUsageScanner(eventStream: false)
            feed(bytes) { scanner.feed($0) }
            sink &+= Int(scanner.finish().usage.tokensIn ?? 0)
        }
        time("event stream (ResponseUsageScanner)", Self.stream) { bytes in
            var scanner = ResponseUsageScanner(eventStream: true)
            feed(bytes) { scanner.feed($0) }
            sink &+= Int(scanner.finish().usage.tokensIn ?? 0)
        }
        if sink == 42 { print("") }  // keeps the results used
    }

    private func feed(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        guard chunk > 0 else { return body(bytes) }
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + chunk)
            body(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
            start = end
        }
    }

    private func time(_ name: String, _ body: [UInt8], _ scan: (UnsafeRawBufferPointer) -> Void) {
        if let only = self.body, !name.lowercased().contains(only) { return }
        let began = threadCPUSeconds()
        body.withUnsafeBytes { bytes in
            for _ in 0..<iterations { scan(bytes) }
        }
        let seconds = threadCPUSeconds() - began
        let perBody = seconds / Double(iterations)
        print(
            String(
                format: "| %@ | %d | %.2f | %.2f |", name, body.count, perBody * 1e6, perBody * 1e9 / Double(body.count)
            ))
    }
}
