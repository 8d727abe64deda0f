import TollgateGateway

/// Why a configuration file was refused: the file, the line and column, the key at fault and what it should be.
/// `tollgate.yaml:12:7: accounts[0].gateways[0].cache_tll: unknown field; expected …`
public struct ConfigFileError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    /// The key's full path, e.g. `serve.port`; empty for an error of the file as a whole.
    public var key: String
    public var message: String

    public init(file: String, line: Int, column: Int, key: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    /// A declaration error, whose origin is `file:line:column` as the reader wrote it.
    public init(_ error: DeclarationError) {
        let parts = error.origin.split(separator: ":")
        let line = parts.count >= 3 ? Int(parts[parts.count - 2]) ?? 0 : 0
        let column = parts.count >= 3 ? Int(parts[parts.count - 1]) ?? 0 : 0
        let file = parts.count >= 3 ? parts.dropLast(2).joined(separator: ":") : error.origin
        self.init(file: file, line: line, column: column, key: error.key, message: error.message)
    }

    public var description: String {
        let place = line > 0 ? "\(file):\(line):\(column)" : file
        return key.isEmpty ? "\(place): \(message)" : "\(place): \(key): \(message)"
    }
}
