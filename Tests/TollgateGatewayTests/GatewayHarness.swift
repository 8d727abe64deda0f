import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization
import TollgateGateway
import TollgateMockProvider
import TollgateModel
import TollgateStorage

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A gateway and a mock provider running in this process on loopback ports they picked, over a temporary data
/// folder; requests go over real sockets.
final class GatewayHarness: Sendable {
    static let adminToken = "test-admin-token"

    let dataDirectory: String
    let mock: MockProvider
    let mockPort: Int
    let gatewayPort: Int
    let gateway: GatewayApp
    private let group: ServiceGroup
    private let runTask: Task<Void, any Error>

    var baseURL: String { "http://127.0.0.1:\(gatewayPort)" }

    private init(
        dataDirectory: String, mock: MockProvider, mockPort: Int, gatewayPort: Int, gateway: GatewayApp,
        group: ServiceGroup, runTask: Task<Void, any Error>
    ) {
        self.dataDirectory = dataDirectory
        self.mock = mock
        self.mockPort = mockPort
        self.gatewayPort = gatewayPort
        self.gateway = gateway
        self.group = group
        self.runTask = runTask
    }

    static func start(
        dataDirectory: String? = nil,
        logger: Logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
        mockConfiguration: MockProvider.Configuration = .init(),
        configure: (inout GatewayApp.Configuration) -> Void = { _ in }
    ) async throws -> GatewayHarness {
        let data = dataDirectory ?? makeTemporaryDirectory()
        let mock = MockProvider(configuration: mockConfiguration)
        let mockPort = try await mock.start(host: "127.0.0.1", port: 0)
        var configuration = GatewayApp.Configuration(dataDirectory: data, adminToken: adminToken)
        configuration.port = 0
        configuration.providers = ProviderTable.builtIn
            .overriding("openai", baseURL: "http://127.0.0.1:\(mockPort)/v1")!
            .overriding("anthropic", baseURL: "http://127.0.0.1:\(mockPort)")!
            // Templated providers: the URL replaces the host their path names; the mapped path stays.
            .overriding("azure-openai", baseURL: "http://127.0.0.1:\(mockPort)")!
            .overriding("google-vertex-ai", baseURL: "http://127.0.0.1:\(mockPort)")!
            .overriding("aws-bedrock", baseURL: "http://127.0.0.1:\(mockPort)")!
        configuration.ingest.commitInterval = .milliseconds(50)
        let bound = Mutex<Int?>(nil)
        configuration.onListening = { port in bound.withLock { $0 = port } }
        configure(&configuration)
        let gateway = try GatewayApp(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: gateway.services.map { .init(service: $0) }, logger: logger))
        let task = Task { try await group.run() }
        // A bound for a loaded machine (CI runs suites in parallel), not a timing assertion.
        let deadline = ContinuousClock.now + .seconds(150)
        while bound.withLock({ $0 }) == nil {
            guard ContinuousClock.now < deadline else { throw HarnessError("gateway did not start listening") }
            try await Task.sleep(for: .milliseconds(10))
        }
        return GatewayHarness(
            dataDirectory: data, mock: mock, mockPort: mockPort, gatewayPort: bound.withLock { $0 }!,
            gateway: gateway, group: group, runTask: task)
    }

    /// Graceful stop: the server stops, the queue drains, the store commits and seals.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await runTask.value
        try await mock.shutdown()
    }

    struct HTTPResult: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                throw HarnessError("not a JSON object: \(text)")
            }
            return object
        }
    }

    func request(
        _ method: String, _ path: String, headers: [String: String] = [:], body: Data? = nil,
        base: String? = nil
    ) async throws -> HTTPResult {
        var request = URLRequest(url: URL(string: (base ?? baseURL) + path)!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 30
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            fields[String(describing: key).lowercased()] = String(describing: value)
        }
        return HTTPResult(status: http.statusCode, headers: fields, body: data)
    }

    func api(_ path: String) async throws -> HTTPResult {
        try await api("GET", path)
    }

    func api(_ method: String, _ path: String, json: String? = nil) async throws -> HTTPResult {
        var headers = ["Authorization": "Bearer \(Self.adminToken)"]
        if json != nil { headers["Content-Type"] = "application/json" }
        return try await request(method, path, headers: headers, body: json.map { Data($0.utf8) })
    }

    /// Polls the logs list until it holds at least `count` logs (or `timeout` passes); returns the logs.
    func waitForLogs(
        account: String = "default", query: String = "", count: Int, timeout: Duration = .seconds(3)
    ) async throws -> [[String: Any]] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let result = try await api("/api/v1/accounts/\(account)/logs?limit=1000\(query)")
            let logs = try result.json()["logs"] as? [[String: Any]] ?? []
            if logs.count >= count || ContinuousClock.now >= deadline { return logs }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A new folder for a test. A test may use its folder after its gateway stopped (the CLI reads a stopped gateway's
/// data), so the folders live under one folder of this process, removed when the process exits.
func makeTemporaryDirectory() -> String {
    let path = testScratchRoot + "/tollgate-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

let testScratchRoot: String = {
    let root = NSTemporaryDirectory() + "tollgate-tests-\(ProcessInfo.processInfo.processIdentifier)"
    try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: testScratchRoot) }
    return root
}()
