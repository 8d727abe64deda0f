import Foundation

// Usage: EmbedSQLTool OUTPUT.swift FILE.sql...
// Writes `EmbeddedSQL.schema` (Schema/ files, by name order) and `EmbeddedSQL.queries` (Queries/ files, by name)
// as string literals. Files are told apart by their parent folder's name.
let arguments = CommandLine.arguments.dropFirst()
guard let outputPath = arguments.first else {
    FileHandle.standardError.write(Data("usage: EmbedSQLTool OUTPUT FILE...\n".utf8))
    exit(64)
}

func literal(_ text: String) -> String {
    // A raw string delimiter longer than any run of '#' in the text keeps the SQL verbatim.
    var hashes = "#"
    while text.contains("\"" + hashes) || text.contains(hashes + "\"") { hashes += "#" }
    return "\(hashes)\"\"\"\n\(text)\n\"\"\"\(hashes)"
}

var schema: [(String, String)] = []
var queries: [(String, String)] = []
for path in arguments.dropFirst() {
    let url = URL(fileURLWithPath: path)
    let text = try String(contentsOf: url, encoding: .utf8)
    let name = url.deletingPathExtension().lastPathComponent
    switch url.deletingLastPathComponent().lastPathComponent {
    case "Schema": schema.append((name, text))
    default: queries.append((name, text))
    }
}
schema.sort { $0.0 < $1.0 }
queries.sort { $0.0 < $1.0 }

var out = "// Generated at build time from Schema/ and Queries/. Do not edit.\n\n"
out += "public enum EmbeddedSQL {\n"
out += "    /// Migrations, in the order they apply: (file name without extension, SQL).\n"
out += "    public static let schema: [(name: String, sql: String)] = [\n"
for (name, text) in schema { out += "        (\(literal(name)), \(literal(text))),\n" }
out += "    ]\n\n"
out += "    /// Named queries by file name without extension.\n"
out += "    public static let queries: [String: String] = [\n"
for (name, text) in queries { out += "        \(literal(name)): \(literal(text)),\n" }
if queries.isEmpty { out += "        :\n" }
out += "    ]\n}\n"
let data = Data(out.utf8)
if (try? Data(contentsOf: URL(fileURLWithPath: outputPath))) != data {
    try data.write(to: URL(fileURLWithPath: outputPath), options: .atomic)
}
