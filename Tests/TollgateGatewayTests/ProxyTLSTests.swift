import Foundation
import NIOSSL
import Testing

@testable import TollgateGateway

@Suite("Proxy TLS")
struct ProxyTLSTests {
    /// A self-signed certificate for localhost, made with the openssl command line tool.
    static func makeCertificate() throws -> (NIOSSLCertificate, NIOSSLPrivateKey) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = dir.appendingPathComponent("key.pem").path
        let cert = dir.appendingPathComponent("cert.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return (try NIOSSLCertificate(file: cert, format: .pem), try NIOSSLPrivateKey(file: key, format: .pem))
    }

    @Test func httpsUpstreamIsVerifiedAgainstTrustRoots() async throws {
        let (certificate, key) = try Self.makeCertificate()
        let serverTLS = try NIOSSLContext(
            configuration: .makeServerConfiguration(
                certificateChain: [.certificate(certificate)], privateKey: .privateKey(key)))
        let upstream = try await TestUpstream(tls: serverTLS) { request, responder in
            try await responder.respond(body: "secure \(request.uri) host=\(request.headers.first(name: "host") ?? "")")
        }
        defer { Task { await upstream.shutdown() } }
        let baseURL = "https://localhost:\(upstream.port)/v1"

        try await TestGateway.with(upstreams: ["openai": baseURL], configure: { $0.extraTrustRoots = [certificate] }) {
            gateway in
            let response = try await TestClient.with(port: gateway.port) { client in
                try await client.request(.GET, TestGateway.path("openai", "/models"))
            }
            #expect(response.status == 200)
            #expect(response.text == "secure /v1/models host=localhost:\(upstream.port)")
        }
        // Without trusting the certificate the handshake fails: 502, recorded.
        try await TestGateway.with(upstreams: ["openai": baseURL]) { gateway in
            let response = try await TestClient.with(port: gateway.port) { client in
                try await client.request(.GET, TestGateway.path("openai", "/models"))
            }
            #expect(response.status == 502)
            let exchange = try #require(await gateway.sink.wait(for: 1).first)
            #expect(exchange.error != nil)
        }
    }
}
