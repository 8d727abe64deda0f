import Foundation
import Testing
import TollgateModel

/// `tollgate compact` as users run it on a stopped gateway's folder: expired logs leave the index and their
/// segments, while the monthly report's lines and totals — and a rollup rebuild — stay the same; only the
/// month's stored-log count (quota) goes down.
@Suite(.serialized) struct CompactCommandTests {
    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CrashRecoveryTests.binary)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(arguments)")
        return String(decoding: data, as: UTF8.self)
    }

    func report(_ data: String, month: String) throws -> [String: Any] {
        let text = try run(["report", "--data", data, "--account", "default", "--month", month, "--format", "json"])
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func compactDeletesExpiredLogsAndKeepsTheReport() throws {
        let data = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let day: Int64 = 86_400_000
        let now = SegmentClock.now
        let oldEnd = RFC3339.format(milliseconds: now - 60 * day)
        // 200 logs from 90 to 60 days ago (their own segment), then 200 over the last 10 days.
        try run([
            "generate", "--data", data, "--account", "default", "--records", "200", "--days", "30", "--end", oldEnd,
        ])
        try run(["generate", "--data", data, "--account", "default", "--records", "200", "--days", "10"])
        let month = String(RFC3339.format(milliseconds: now - 70 * day).prefix(7))
        let before = try report(data, month: month)

        let output = try run(["compact", "--data", data, "--retention-days", "50"])
        #expect(output.contains("retention: 200 expired logs deleted"))
        // The old logs had a segment of their own: it is dropped whole, its usage kept in a usage archive.
        #expect(output.contains("compaction: 1 segments dropped whole, 0 rewritten, 200 deleted logs purged"))
        let archives = try FileManager.default.contentsOfDirectory(atPath: data + "/usage")
        #expect(archives.count == 1 && archives[0].hasSuffix(".usage"))
        let segments = try FileManager.default.contentsOfDirectory(atPath: data + "/segments")
        #expect(!segments.contains(archives[0].replacingOccurrences(of: ".usage", with: ".seg")))

        let after = try report(data, month: month)
        #expect(after["lines"] as? NSArray == before["lines"] as? NSArray)
        #expect(after["totals"] as? NSDictionary == before["totals"] as? NSDictionary)
        let quota = try #require(after["log_quota"] as? [String: Any])
        #expect(quota["used"] as? Int == 0)
        try run(["rebuild-rollups", "--data", data])
        let rebuilt = try report(data, month: month)
        #expect(rebuilt["lines"] as? NSArray == before["lines"] as? NSArray)
        #expect(rebuilt["totals"] as? NSDictionary == before["totals"] as? NSDictionary)
        // A second pass has nothing left to do.
        #expect(try run(["compact", "--data", data]).contains("compaction: 0 segments dropped whole, 0 rewritten"))
    }
}

enum SegmentClock {
    static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
