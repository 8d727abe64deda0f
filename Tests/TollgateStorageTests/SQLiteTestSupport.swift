import Foundation

/// Runs `body` with a new empty directory, removed afterwards whatever happens.
func withTemporaryCatalogDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = try makeTemporaryCatalogDirectory()
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

func withTemporaryCatalogDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = try makeTemporaryCatalogDirectory()
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

private func makeTemporaryCatalogDirectory() throws -> String {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("tollgate-catalog-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
}
