import Foundation

/// The admin bearer token: `TOLLGATE_ADMIN_TOKEN`, else `DATA/admin-token`, else a new random one written there
/// with mode 0600.
struct AdminToken {
    var value: String
    var generated: Bool

    static func load(dataDirectory: String, environment: [String: String]) throws -> AdminToken {
        if let token = environment["TOLLGATE_ADMIN_TOKEN"], !token.isEmpty {
            return AdminToken(value: token, generated: false)
        }
        let path = dataDirectory + "/admin-token"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !token.isEmpty { return AdminToken(value: token, generated: false) }
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = generator.next() }
        let token = "tg_" + bytes.map { String(format: "%02x", $0) }.joined()
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(fd) }
        let line = Array((token + "\n").utf8)
        guard write(fd, line, line.count) == line.count, fsync(fd) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        return AdminToken(value: token, generated: true)
    }
}
