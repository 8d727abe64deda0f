import Foundation
import Synchronization
import Testing
import TollgateMockProvider
import TollgateModel

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `tollgate serve` as a separate process, killed with SIGKILL under load: after a restart, every log that the
/// API had listed (so was durable) is still listed and readable, and the store accepts new requests.
@Suite(.serialized) struct CrashRecoveryTests {
    /// The built `tollgate` executable: beside the test bundle, or `TOLLGATE_BIN`.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["TOLLGATE_BIN"] { return path }
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = runner.deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("tollgate").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return "tollgate"
    }

    // Shared with the load tasks: `Process` is only read (its port, its pid) after `run()`, and killed once.
    final class ServeProcess: @unchecked Sendable {
        let process = Process()
        let port: Int

        init(data: String, port: Int, mockPort: Int) throws {
            self.port = port
            process.executableURL = URL(fileURLWithPath: CrashRecoveryTests.binary)
            process.arguments = [
                "serve", "--port", "\(port)", "--data", data, "--commit-interval-ms", "50",
                "--upstream", "openai=http://127.0.0.1:\(mockPort)/v1", "--log-level", "error",
            ]
            process.environment = ["TOLLGATE_ADMIN_TOKEN": GatewayHarness.adminToken]
            // Not the test runner's pipes: a server left running by a failed test must not keep them open.
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }

        func waitUntilListening() async throws {
            // Generous: on a loaded machine a debug build's recovery and start can take tens of seconds.
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline {
                if (try? await get("/healthz"))?.0 == 200 { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw HarnessError("tollgate serve did not start")
        }

        func get(_ path: String) async throws -> (Int, Data) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.setValue("Bearer \(GatewayHarness.adminToken)", forHTTPHeaderField: "Authorization")
            request.timeoutInterval = 5
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as! HTTPURLResponse).statusCode, data)
        }

        func post(_ path: String, _ body: String) async throws -> Int {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.timeoutInterval = 5
            let (_, response) = try await URLSession.shared.data(for: request)
            return (response as! HTTPURLResponse).statusCode
        }

        func listedIDs() async throws -> [String] {
            var ids: [String] = []
            var cursor: String? = nil
            repeat {
                let (status, data) = try await get(
                    "/api/v1/accounts/default/logs?limit=1000" + (cursor.map { "&cursor=\($0)" } ?? ""))
                guard status == 200, let page = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                    throw HarnessError("logs list failed: \(status)")
                }
                ids += (page["logs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page["next_cursor"] as? String
            } while cursor != nil
            return ids
        }

        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    static func freePort() throws -> Int {
        let held = try RefusingPort()
        held.close()
        return held.port
    }

    @Test func killNineUnderLoadLosesNoDurableLog() async throws {
        let mock = MockProvider()
        let mockPort = try await mock.start(host: "127.0.0.1", port: 0)
        let data = makeTemporaryDirectory()
        let port = try Self.freePort()
        let body = #"{"model":"gpt-5-mini","messages":[{"role":"user","content":"crash test"}]}"#

        let first = try ServeProcess(data: data, port: port, mockPort: mockPort)
        try await first.waitUntilListening()
        // Load from 4 concurrent clients for a bounded time, while we sample what the API lists. The loops stop on
        // a flag, not by cancellation: cancelling a URLSession request from a task can deadlock FoundationNetworking.
        let stopped = StopFlag()
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        let stop = ContinuousClock.now + .seconds(3)
                        var sent = 0
                        while ContinuousClock.now < stop && sent < 2000 && !stopped.isSet {
                            _ = try? await first.post("/v1/default/default/openai/chat/completions", body)
                            sent += 1
                        }
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(1500))
        let listed = try await first.listedIDs()
        #expect(listed.count > 0)
        first.kill9()
        stopped.set()
        await load.value

        let second = try ServeProcess(data: data, port: port, mockPort: mockPort)
        try await second.waitUntilListening()
        let after = Set(try await second.listedIDs())
        let lost = listed.filter { !after.contains($0) }
        #expect(lost.isEmpty, "lost \(lost.count) of \(listed.count) durable logs")
        for id in listed.prefix(50) {
            let (status, data) = try await second.get("/api/v1/accounts/default/logs/\(id)/request")
            #expect(status == 200)
            #expect(String(decoding: data, as: UTF8.self) == body)
        }
        // The store takes new records after recovery.
        #expect(try await second.post("/v1/default/default/openai/chat/completions", body) == 200)

        // The rollups replayed what the crash left unfolded: they count every stored log exactly once, and a
        // rebuild from the segments gives the same rollups, percentiles included.
        // (Wait for the last request's commit: both counts are read after it.)
        try await Task.sleep(for: .milliseconds(300))
        let stored = try await second.listedIDs().count
        // The month's stored-log count for the quota is exact after the crash: no log counted twice, none missed.
        let quota = try await Self.usage(second, "/api/v1/accounts/default/quota")
        #expect(quota["used"] as? Int == stored)
        let minute: Int64 = 60_000
        let now = Int64(Date().timeIntervalSince1970 * 1000) / minute * minute
        let usagePath =
            "/api/v1/accounts/default/usage?interval=minute&group_by=gateway,provider,model,success"
            + "&from=\(RFC3339.format(milliseconds: now - 3_600_000))&to=\(RFC3339.format(milliseconds: now + 3_600_000))"
        let incremental = try await Self.usage(second, usagePath)
        #expect((incremental["totals"] as? [String: Any])?["requests"] as? Int == stored)
        second.process.terminate()
        second.process.waitUntilExit()
        #expect(second.process.terminationStatus == 0)

        let rebuild = Process()
        rebuild.executableURL = URL(fileURLWithPath: Self.binary)
        rebuild.arguments = ["rebuild-rollups", "--data", data]
        rebuild.standardOutput = FileHandle.nullDevice
        rebuild.standardError = FileHandle.nullDevice
        try rebuild.run()
        rebuild.waitUntilExit()
        #expect(rebuild.terminationStatus == 0)
        let third = try ServeProcess(data: data, port: port, mockPort: mockPort)
        try await third.waitUntilListening()
        let rebuilt = try await Self.usage(third, usagePath)
        #expect(NSDictionary(dictionary: rebuilt) == NSDictionary(dictionary: incremental))
        third.process.terminate()
        third.process.waitUntilExit()
        try await mock.shutdown()
    }

    static func usage(_ server: ServeProcess, _ path: String) async throws -> [String: Any] {
        let (status, data) = try await server.get(path)
        guard status == 200, let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw HarnessError("usage failed: \(status) \(String(decoding: data, as: UTF8.self))")
        }
        return object
    }
}

/// A flag set once by one task and read by others.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}
