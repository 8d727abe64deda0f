import Foundation
import Testing
import TollgateModel

/// `tollgate export` as users run it on a data folder: an export larger than one write buffer comes out whole and in
/// order, the same to a file as to standard output, and a write that fails stops it with an error.
@Suite(.serialized) struct ExportCommandTests {
    /// Runs the `tollgate` binary with standard output to `output` (a pipe when nil): its status, standard output
    /// and standard error.
    func run(_ arguments: [String], output file: FileHandle? = nil) throws -> (Int32, Data, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CrashRecoveryTests.binary)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = file ?? output
        process.standardError = errors
        try process.run()
        let data = file == nil ? output.fileHandleForReading.readDataToEndOfFile() : Data()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, data, text)
    }

    /// 40,000 logs: one sealed segment (its logs answered from its columns, their costs from its stored costs) and
    /// the segment being written; about 25 MB of NDJSON.
    @Test func anExportOfManyBuffersComesOutWholeInOrderAndPriced() throws {
        let data = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let (generated, _, _) = try run([
            "generate", "--data", data, "--account", "default", "--records", "40000", "--days", "10",
            "--end", "2026-11-25", "--no-payload",
        ])
        #expect(generated == 0)
        let range = ["--from", "2026-11-01", "--to", "2026-12-01"]
        let file = data + "/export.ndjson"
        let (status, _, message) = try run(
            ["export", "--data", data, "--account", "default", "--format", "ndjson", "--output", file] + range)
        #expect(status == 0 && message.contains("exported 40000 logs"), "\(message)")
        let written = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(written.count > 8 << 20, "several 1 MiB writes")
        let (piped, standardOutput, _) = try run(
            ["export", "--data", data, "--account", "default", "--format", "ndjson"] + range)
        #expect(piped == 0 && standardOutput == written)

        let lines = written.split(separator: UInt8(ascii: "\n"))
        #expect(lines.count == 40_000)
        var ids: [LogID] = []
        var cost: Int64 = 0
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            ids.append(try #require((object["id"] as? String).flatMap(LogID.init)))
            cost += UsageReportTests.picodollars(object["cost"]) ?? 0
        }
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 }, "oldest first, each log once")
        // Every log's cost, sealed or not, adds up to the month's report.
        let (_, report, _) = try run([
            "report", "--data", data, "--account", "default", "--month", "2026-11", "--format", "json",
        ])
        let totals = try #require(
            (try JSONSerialization.jsonObject(with: report) as? [String: Any])?["totals"] as? [String: Any])
        #expect(cost > 0 && UsageReportTests.picodollars(totals["cost"]) == cost)
    }

    @Test func aWriteThatFailsStopsTheExportWithAnError() throws {
        let data = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        _ = try run(["generate", "--data", data, "--account", "default", "--records", "3000", "--no-payload"])
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        let (status, _, message) = try run(
            [
                "export", "--data", data, "--account", "default", "--format", "csv", "--from", "2000-01-01",
                "--to", "2100-01-01",
            ], output: full)
        #expect(status != 0)
        #expect(message.contains("export: write failed: No space left on device"), "\(message)")
    }
}
