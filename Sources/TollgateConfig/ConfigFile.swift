import Foundation
import TollgateGateway
import TollgateModel
import Yams

/// A configuration file for `tollgate serve --config FILE`: the `serve:` settings (the flags' values) and the
/// accounts, gateways, custom providers and price rows to apply at start.
///
/// ```yaml
/// serve: {port: 8787, log_level: info, upstream: {openai: "http://127.0.0.1:9090/v1"}}
/// prices: [{provider: openai, model: gpt-4o, effective_from: 2026-01-01, input: 2.5, output: 10}]
/// accounts:
///   - id: acme
///     tier: paid
///     gateways: [{id: prod, cache_ttl: 300}]
///     custom_providers: [{slug: local, base_url: "http://127.0.0.1:9000/v1", api: openai}]
///     prices: []
/// ```
///
/// Reading is strict: an unknown key, a key given twice, a value of the wrong type or out of range is an error
/// naming the file, the line and column, and the key. Every item is checked as the REST API checks a request body.
public struct ConfigFile: Sendable {
    public var serve = ServeOptions()
    public var declarations = Declarations()

    public init() {}

    /// The top-level keys.
    public static let topLevelKeys = ["serve", "prices", "accounts"]
    /// The keys of an account besides its settings: what belongs to it.
    public static let accountListKeys = ["gateways", "custom_providers", "prices"]

    /// Reads and checks the file at `path`.
    public static func load(path: String) throws(ConfigFileError) -> ConfigFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigFileError(
                file: path, line: 0, column: 0, key: "", message: "cannot be read: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
    }

    /// Reads and checks a file's text; `file` names it in errors.
    public static func parse(_ yaml: String, file: String) throws(ConfigFileError) -> ConfigFile {
        let reader = YAMLReader(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw reader.syntaxError(error)
        } catch {
            throw ConfigFileError(file: file, line: 0, column: 0, key: "", message: "not valid YAML: \(error)")
        }
        var config = ConfigFile()
        guard let root else { return config }  // an empty file declares nothing
        let top = try reader.mapping(root, path: "", allowed: topLevelKeys)
        if let serve = top["serve"] {
            config.serve = try reader.serveOptions(serve.value, path: "serve")
        }
        if let prices = top["prices"] {
            config.declarations.prices = try reader.items(prices.value, path: "prices")
        }
        if let accounts = top["accounts"] {
            for (index, node) in try reader.sequence(accounts.value, path: "accounts").enumerated() {
                config.declarations.accounts.append(try reader.account(node, path: "accounts[\(index)]"))
            }
        }
        do {
            try config.declarations.check()
        } catch {
            throw ConfigFileError(error)
        }
        return config
    }
}
