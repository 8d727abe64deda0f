import Foundation
import Synchronization
import Testing
import TollgateModel

@testable import TollgateGateway

/// Counts exchanges the way a bounded ingest queue would take them, without keeping them.
final class CountingSink: ExchangeSink {
    private let count = Atomic<Int>(0)
    func submit(_ exchange: consuming Exchange) { count.add(1, ordering: .relaxed) }
    var total: Int { count.load(ordering: .relaxed) }
}

/// Load through the proxy versus straight to the upstream, with wrk. Runs only with `TOLLGATE_PROXY_BENCH=1`
/// (meant for release builds: `swift test -c release --filter ProxyBenchmark`).
@Suite("Proxy benchmark", .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_PROXY_BENCH"] == "1"))
struct ProxyBenchmarkTests {
    struct WrkResult: CustomStringConvertible {
        var requestsPerSecond: Double
        var p50: String
        var p99: String
        var non2xx: Bool
        var description: String { "\(Int(requestsPerSecond)) req/s, p50 \(p50), p99 \(p99)" }
    }

    static func wrk(_ url: String, connections: Int, seconds: Int) throws -> WrkResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
        process.arguments = [
            "-t", connections == 1 ? "1" : "2", "-c", "\(connections)", "-d", "\(seconds)s", "--latency", url,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        func field(_ prefix: String) -> String {
            for line in text.split(separator: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix(prefix) {
                    return trimmed.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
                }
            }
            return "?"
        }
        return WrkResult(
            requestsPerSecond: Double(field("Requests/sec:")) ?? 0, p50: field("50%"), p99: field("99%"),
            non2xx: text.contains("Non-2xx"))
    }

    /// Runs nginx (if installed) as a plain keep-alive reverse proxy to `upstreamPort`; returns its port and a stop.
    static func startNginx(upstreamPort: Int) async throws -> (port: Int, stop: () -> Void)? {
        let binary = "/usr/sbin/nginx"
        guard FileManager.default.isExecutableFile(atPath: binary) else { return nil }
        let free = try await ProxyErrorTests.closedPort()
        free.close()  // nginx takes it
        let port = free.port
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-nginx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = """
            user root;
            worker_processes auto;
            pid \(dir.path)/nginx.pid;
            error_log \(dir.path)/error.log;
            events { worker_connections 1024; }
            http {
                access_log off;
                client_body_temp_path \(dir.path)/body;
                proxy_temp_path \(dir.path)/proxy;
                upstream up { server 127.0.0.1:\(upstreamPort); keepalive 64; }
                server {
                    listen 127.0.0.1:\(port);
                    location / {
                        proxy_pass http://up;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                    }
                }
            }
            """
        let path = dir.appendingPathComponent("nginx.conf").path
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-c", path, "-p", dir.path, "-g", "daemon off;"]
        try process.run()
        try await Task.sleep(for: .milliseconds(300))
        return (
            port,
            {
                process.terminate()
                process.waitUntilExit()
                try? FileManager.default.removeItem(at: dir)
            }
        )
    }

    @Test func throughputAndLatencyDirectVersusProxied() async throws {
        let body = String(
            repeating: #"{"id":"chatcmpl-1","object":"chat.completion","usage":{"prompt_tokens":9}}"#, count: 4)
        let upstream = try await FixedResponseUpstream(body: body)
        defer { Task { await upstream.shutdown() } }
        let seconds = Int(ProcessInfo.processInfo.environment["TOLLGATE_PROXY_BENCH_SECONDS"] ?? "5") ?? 5
        let sink = CountingSink()
        try await TestGateway.with(upstreams: ["openai": "http://127.0.0.1:\(upstream.port)/v1"], sink: sink) {
            gateway in
            let direct = "http://127.0.0.1:\(upstream.port)/v1/chat/completions"
            let proxied = "http://127.0.0.1:\(gateway.port)" + TestGateway.path("openai", "/chat/completions")
            let nginx = try await Self.startNginx(upstreamPort: upstream.port)
            defer { nginx?.stop() }
            for connections in [1, 32] {
                let d = try Self.wrk(direct, connections: connections, seconds: seconds)
                let p = try Self.wrk(proxied, connections: connections, seconds: seconds)
                print("proxy-bench c=\(connections) direct: \(d)")
                print("proxy-bench c=\(connections) tollgate: \(p)")
                if let nginx {
                    let n = try Self.wrk(
                        "http://127.0.0.1:\(nginx.port)/v1/chat/completions", connections: connections, seconds: seconds
                    )
                    print(
                        "proxy-bench c=\(connections) nginx: \(n); tollgate/nginx throughput \(String(format: "%.2f", p.requestsPerSecond / max(n.requestsPerSecond, 1)))"
                    )
                }
                #expect(p.requestsPerSecond > 0)
                #expect(!p.non2xx)
            }
            #expect(sink.total > 0)
        }
    }
}
