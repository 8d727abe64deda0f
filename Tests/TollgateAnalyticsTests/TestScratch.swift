import Foundation

/// A new folder's path for a test's catalog, under one folder of this process that is removed when the process
/// exits: a test's catalog stays open until the test ends, so the folder cannot go with a `defer`.
func scratchDirectory(_ prefix: String) -> String {
    scratchRoot + "/" + prefix + "-" + UUID().uuidString
}

private let scratchRoot: String = {
    let root = NSTemporaryDirectory() + "tollgate-analytics-tests-\(ProcessInfo.processInfo.processIdentifier)"
    try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: scratchRoot) }
    return root
}()
