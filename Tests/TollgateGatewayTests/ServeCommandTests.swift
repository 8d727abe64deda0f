import Foundation
import Testing
import TollgateConfig
import TollgateMockProvider

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `tollgate serve` as users start it: the admin token generated once into the data folder, env equivalents of
/// the flags, and a clean exit on SIGTERM.
@Suite(.serialized) struct ServeCommandTests {
    /// Starts `tollgate serve`, waits for its "listening" line, and returns the process and what it printed.
    func serve(data: String, port: Int, environment: [String: String], arguments: [String] = []) async throws
        -> (Process, String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CrashRecoveryTests.binary)
        process.arguments = ["serve", "--port", "\(port)", "--log-level", "error"] + arguments
        process.environment = environment.merging(["TOLLGATE_DATA": data]) { a, _ in a }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice  // never the test runner's own pipe
        try process.run()
        let collected = LineCollector(output.fileHandleForReading)
        let deadline = ContinuousClock.now + .seconds(60)
        while !collected.text.contains("listening on") {
            guard ContinuousClock.now < deadline, process.isRunning else {
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                throw HarnessError("serve did not start: \(collected.text)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return (process, collected.text)
    }

    func stop(_ process: Process) async -> Int32 {
        process.terminate()
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        return process.terminationStatus
    }

    @Test func generatesTheAdminTokenOnceWithMode0600AndReadsUpstreamsFromTheEnvironment() async throws {
        let mock = MockProvider()
        let mockPort = try await mock.start(host: "127.0.0.1", port: 0)
        let data = makeTemporaryDirectory()
        let port = try CrashRecoveryTests.freePort()
        let environment = ["TOLLGATE_UPSTREAM_OPENAI": "http://127.0.0.1:\(mockPort)/v1"]

        let (first, printed) = try await serve(data: data, port: port, environment: environment)
        let token = try String(contentsOfFile: data + "/admin-token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.count >= 32)
        #expect(printed.contains(token))
        let mode = try FileManager.default.attributesOfItem(atPath: data + "/admin-token")[.posixPermissions] as? Int
        #expect(mode == 0o600)

        // The environment's upstream is used, and the generated token opens the API.
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/default/default/openai/embeddings")!)
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"model":"text-embedding-3-small","input":"hi"}"#.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        var api = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/accounts/default")!)
        api.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (_, apiResponse) = try await URLSession.shared.data(for: api)
        #expect((apiResponse as? HTTPURLResponse)?.statusCode == 200)
        #expect(await stop(first) == 0)

        // A second start reuses the token and does not print it again.
        let (second, printedAgain) = try await serve(data: data, port: port, environment: environment)
        #expect(!printedAgain.contains(token))
        #expect(await stop(second) == 0)
        try await mock.shutdown()
    }
}

/// Collects what a pipe delivers, from a background reader.
final class LineCollector: @unchecked Sendable {
    // `buffer` is only touched under `lock`.
    private let lock = NSLock()
    private var buffer = ""

    init(_ handle: FileHandle) {
        handle.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.lock()
            self.buffer += String(decoding: data, as: UTF8.self)
            self.lock.unlock()
        }
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return buffer
    }
}

extension ServeCommandTests {
    /// Runs `tollgate` with `arguments` to its end; returns the exit status and what it wrote to standard error.
    func runTollgate(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CrashRecoveryTests.binary)
        process.arguments = arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test func badFlagsAndABusyDataFolderAreRefused() async throws {
        let data = makeTemporaryDirectory()
        let (status, text) = try runTollgate(["serve", "--data", data, "--retention-interval-minutes", "5000"])
        #expect(status != 0)
        #expect(text.contains("--retention-interval-minutes"))
        let (cacheStatus, cacheText) = try runTollgate(["serve", "--data", data, "--cache-max-mb", "0"])
        #expect(cacheStatus != 0)
        #expect(cacheText.contains("--cache-max-mb"))
        // workers-ai's account is --workers-ai-account's (or the gateway path's), never part of an --upstream URL.
        let (accountStatus, accountText) = try runTollgate([
            "serve", "--data", data, "--upstream",
            "workers-ai=https://api.cloudflare.com/client/v4/accounts/0123abcd/ai",
        ])
        #expect(accountStatus != 0)
        #expect(accountText.contains("--workers-ai-account"), "\(accountText)")
        let (badAccount, badAccountText) = try runTollgate(["serve", "--data", data, "--workers-ai-account", "a/b"])
        #expect(badAccount != 0)
        #expect(badAccountText.contains("--workers-ai-account"), "\(badAccountText)")

        // A writing command refuses a folder a running gateway holds.
        let port = try CrashRecoveryTests.freePort()
        let (server, _) = try await serve(data: data, port: port, environment: ["TOLLGATE_ADMIN_TOKEN": "t"])
        let (busy, message) = try runTollgate(["generate", "--data", data, "--account", "acme", "--records", "10"])
        #expect(busy != 0)
        #expect(message.contains("in use"), "\(message)")
        #expect(await stop(server) == 0)
        let (free, _) = try runTollgate(["generate", "--data", data, "--account", "acme", "--records", "10"])
        #expect(free == 0)
    }
}

extension ServeCommandTests {
    /// `serve --config`: the file's account and gateway exist at start and the proxy forwards through them; the
    /// file's port is overridden by `--port`; a second start with the same file changes nothing.
    @Test func startsWithTheAccountAndGatewayTheConfigurationFileDeclares() async throws {
        let mock = MockProvider()
        let mockPort = try await mock.start(host: "127.0.0.1", port: 0)
        let data = makeTemporaryDirectory()
        let port = try CrashRecoveryTests.freePort()
        let file = data + "/tollgate.yaml"
        try """
        serve:
          port: 1
          log_level: warning
          upstream:
            openai: http://127.0.0.1:\(mockPort)/v1
        accounts:
          - id: acme
            gateways:
              - id: prod
                authentication: false
        """.write(toFile: file, atomically: true, encoding: .utf8)

        let (first, printed) = try await serve(
            data: data, port: port, environment: ["TOLLGATE_ADMIN_TOKEN": "t"], arguments: ["--config", file])
        #expect(printed.contains("2 created"), "\(printed)")
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/acme/prod/openai/embeddings")!)
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"model":"text-embedding-3-small","input":"hi"}"#.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(await stop(first) == 0)

        let (second, printedAgain) = try await serve(
            data: data, port: port, environment: ["TOLLGATE_ADMIN_TOKEN": "t"], arguments: ["--config", file])
        #expect(printedAgain.contains("0 created, 0 updated, 2 unchanged"), "\(printedAgain)")
        #expect(await stop(second) == 0)
        try await mock.shutdown()
    }

    @Test func aBadConfigurationFileStopsTheStartNamingFileLineAndKey() throws {
        let data = makeTemporaryDirectory()
        let file = data + "/bad.yaml"
        try "serve:\n  port: 8080\naccounts:\n  - id: acme\n    tire: paid\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let (status, text) = try runTollgate(["serve", "--data", data, "--config", file])
        #expect(status != 0)
        #expect(text.contains("\(file):5:5: accounts[0].tire: unknown key"), "\(text)")
    }
}

extension ServeCommandTests {
    /// Every serve setting the configuration file takes is a flag of `serve`, with the help the declaration gives.
    @Test func everyConfigurationKeyIsAFlag() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CrashRecoveryTests.binary)
        process.arguments = ["serve", "--help"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let help = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        for key in ServeOptions.keys {
            #expect(help.contains(key.flag), "\(key.flag) is not a flag of serve")
        }
        let flags = help.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("--") else { return nil }
            return String(trimmed.prefix { $0 != " " && $0 != "/" })
        }
        for flag in flags where flag != "--config" && flag != "--help" {
            #expect(ServeOptions.keys.contains { $0.flag == flag }, "\(flag) has no configuration file key")
        }
    }
}
