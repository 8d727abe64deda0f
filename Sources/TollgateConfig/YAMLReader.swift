import TollgateGateway
import TollgateModel
import Yams

/// Reads composed YAML nodes strictly, keeping each node's position (`Node.mark`) for the error that names it.
struct YAMLReader {
    let file: String

    func error(_ node: Node?, _ key: String, _ message: String) -> ConfigFileError {
        ConfigFileError(
            file: file, line: node?.mark?.line ?? 0, column: node?.mark?.column ?? 0, key: key, message: message)
    }

    func origin(_ node: Node) -> String {
        "\(file):\(node.mark?.line ?? 0):\(node.mark?.column ?? 0)"
    }

    func syntaxError(_ error: YamlError) -> ConfigFileError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return ConfigFileError(
                file: file, line: mark.line, column: mark.column, key: "", message: "not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams places it at the mapping that holds the keys.
            return ConfigFileError(
                file: file, line: context.mark.line, column: context.mark.column,
                key: duplicates.joined(separator: ", "),
                message: "given more than once in the mapping starting here; expected each key once")
        default:
            return ConfigFileError(file: file, line: 0, column: 0, key: "", message: "not valid YAML: \(error)")
        }
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// A mapping's entries by key: keys are plain strings, each at most once, each one of `allowed` when given.
    func mapping(_ node: Node, path: String, allowed: [String]? = nil) throws(ConfigFileError)
        -> [String: (key: Node, value: Node)]
    {
        guard let mapping = node.mapping else {
            throw error(node, path.isEmpty ? "(top level)" : path, "expected a mapping of keys to values")
        }
        var entries: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string, key.tagName == .str else {
                throw error(key, path.isEmpty ? "(top level)" : path, "keys must be plain strings")
            }
            let full = Self.join(path, name)
            guard entries[name] == nil else { throw error(key, full, "given more than once; expected it once") }
            if let allowed, !allowed.contains(name) {
                throw error(key, full, "unknown key; expected \(allowed.joined(separator: ", "))")
            }
            entries[name] = (key, value)
        }
        return entries
    }

    func sequence(_ node: Node, path: String) throws(ConfigFileError) -> [Node] {
        guard let sequence = node.sequence else { throw error(node, path, "expected a list") }
        return Array(sequence)
    }

    /// A list of declared objects.
    func items(_ node: Node, path: String) throws(ConfigFileError) -> [Declarations.Item] {
        var items: [Declarations.Item] = []
        for (index, element) in try sequence(node, path: path).enumerated() {
            items.append(try item(element, path: "\(path)[\(index)]").item)
        }
        return items
    }

    /// One declared object: its members as JSON with each one's position, and the entries `lists` names kept apart
    /// as nodes.
    func item(_ node: Node, path: String, lists: [String] = []) throws(ConfigFileError)
        -> (item: Declarations.Item, lists: [String: Node])
    {
        var origins: [String: String] = [:]
        var members: [String: JSONValue] = [:]
        var kept: [String: Node] = [:]
        for (name, entry) in try mapping(node, path: path) {
            if lists.contains(name) {
                kept[name] = entry.value
                continue
            }
            origins[name] = origin(entry.key)
            members[name] = try json(entry.value, path: path, member: name, origins: &origins)
        }
        return (Declarations.Item(members: members, path: path, origin: origin(node), origins: origins), kept)
    }

    func account(_ node: Node, path: String) throws(ConfigFileError) -> Declarations.Account {
        // Checked here first, so an unknown key's message lists the account's lists too.
        _ = try mapping(node, path: path, allowed: Declarations.Kind.account.memberNames + ConfigFile.accountListKeys)
        let (item, lists) = try item(node, path: path, lists: ConfigFile.accountListKeys)
        var account = Declarations.Account(item: item)
        if let node = lists["gateways"] { account.gateways = try items(node, path: path + ".gateways") }
        if let node = lists["custom_providers"] {
            account.customProviders = try items(node, path: path + ".custom_providers")
        }
        if let node = lists["prices"] { account.prices = try items(node, path: path + ".prices") }
        return account
    }

    /// A node as JSON: YAML's resolved scalar types become JSON's (`!!int` and `!!float` numbers, `!!bool`,
    /// `!!null`); other scalars (strings, dates) are their text. `member` is the node's path inside its item.
    func json(_ node: Node, path: String, member: String, origins: inout [String: String]) throws(ConfigFileError)
        -> JSONValue
    {
        if let scalar = node.scalar {
            switch node.tagName {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int: return node.int.map { .number(Double($0)) } ?? .string(scalar.string)
            case .float:
                guard let value = node.float, value.isFinite else {
                    throw error(node, Self.join(path, member), "expected a finite number")
                }
                return .number(value)
            default: return .string(scalar.string)
            }
        }
        if let sequence = node.sequence {
            var elements: [JSONValue] = []
            for (index, element) in sequence.enumerated() {
                let name = "\(member)[\(index)]"
                origins[name] = origin(element)
                elements.append(try json(element, path: path, member: name, origins: &origins))
            }
            return .array(elements)
        }
        if node.mapping != nil {
            var object: [String: JSONValue] = [:]
            for (name, entry) in try mapping(node, path: Self.join(path, member)) {
                let child = member + "." + name
                origins[child] = origin(entry.key)
                object[name] = try json(entry.value, path: path, member: child, origins: &origins)
            }
            return .object(object)
        }
        throw error(node, Self.join(path, member), "aliases are not supported; write the value out")
    }

    /// The `serve:` section, each key as its flag takes it.
    func serveOptions(_ node: Node, path: String) throws(ConfigFileError) -> ServeOptions {
        var options = ServeOptions()
        let entries = try mapping(node, path: path, allowed: ServeOptions.keys.map(\.name))
        for key in ServeOptions.keys {
            guard let (_, value) = entries[key.name] else { continue }
            let full = Self.join(path, key.name)
            func fail() -> ConfigFileError { error(value, full, key.kind.expectation) }
            switch key.kind {
            case .text:
                guard let text = value.scalar?.string, value.tagName == .str, !text.isEmpty else { throw fail() }
                switch key.name {
                case "host": options.host = text
                case "workers_ai_account": options.workersAIAccount = text
                default: options.data = text
                }
            case .integer(let range):
                guard value.tagName == .int, let number = value.int, range.contains(number) else { throw fail() }
                switch key.name {
                case "port": options.port = number
                case "commit_interval_ms": options.commitIntervalMs = number
                case "queue_capacity": options.queueCapacity = number
                case "retention_interval_minutes": options.retentionIntervalMinutes = number
                default: options.cacheMaxMb = number
                }
            case .boolean:
                guard value.tagName == .bool, let flag = value.bool else { throw fail() }
                options.metricsPublic = flag
            case .choice(let names):
                guard let text = value.scalar?.string, value.tagName == .str, names.contains(text) else {
                    throw fail()
                }
                if key.name == "log_level" { options.logLevel = text } else { options.logFormat = text }
            case .upstreams:
                guard value.mapping != nil else { throw fail() }
                var upstreams: [String] = []
                for (slug, entry) in try mapping(value, path: full).sorted(by: { $0.key < $1.key }) {
                    guard let url = entry.value.scalar?.string, entry.value.tagName == .str,
                        url.hasPrefix("http://") || url.hasPrefix("https://")
                    else {
                        throw error(
                            entry.value, full + "." + slug, "expected a base URL starting with http:// or https://")
                    }
                    guard ProviderTable.builtIn.slugs.contains(slug) else {
                        throw error(
                            entry.key, full + "." + slug,
                            "unknown provider; expected one of \(ProviderTable.builtIn.slugs.joined(separator: ", "))")
                    }
                    upstreams.append("\(slug)=\(url)")
                }
                options.upstream = upstreams
            }
        }
        return options
    }
}

extension Node {
    /// The node's resolved type: `!!str`, `!!int`, `!!bool`…
    var tagName: Tag.Name { Tag.Name(rawValue: tag.rawValue) }
}
