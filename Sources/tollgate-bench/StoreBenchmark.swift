import ArgumentParser
import Foundation
import Logging
import TollgateAnalytics
import TollgateModel
import TollgateStorage

/// `tollgate-bench store`: the log store alone. Appends synthetic fixture-sized records (`SyntheticTraffic` with full
/// payloads) through `LogStore` (segment append, group commit with fsync, catalog index) on one thread and reports
/// records/s, MB/s of raw payload, and bytes stored per raw byte.
struct StoreBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store", abstract: "Benchmark the log store alone.")

    @Option(help: "Records to append.") var records = 200_000
    @Option(help: "Records per append batch (the ingest service's batch).") var batch = 512
    @Option(help: "Commit (fsync + index) every this many milliseconds of appending.") var commitIntervalMs = 200
    @Option(help: "Where to write; a temporary folder by default (removed afterwards).") var data: String?
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(help: "zstd level for records (the store's default is 3).") var level: Int32 = 3
    @Option(help: "Bytes of record encodings per compressed block (the store's default is 65536).") var blockBytes =
        65_536
    @Option(help: "Segment format version to write (3, 4 or 5; the store's default when not given).")
    var formatVersion: UInt8?

    func run() throws {
        let directory = data ?? (NSTemporaryDirectory() + "tollgate-bench-\(UUID().uuidString)")
        defer { if data == nil { try? FileManager.default.removeItem(atPath: directory) } }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var logger = Logger(label: "bench")
        logger.logLevel = .warning

        // Generate first so generation is not timed.
        // One record a millisecond, ending now.
        let start = TollgateClock.system.wallMilliseconds() - Int64(records)
        var generator = SyntheticTraffic(
            seed: seed, count: records, start: start, end: start + Int64(records), payloads: .full)
        var all: [LogRecord] = []
        all.reserveCapacity(records)
        var rawBytes = 0
        let generationBegan = threadCPUSeconds()
        for _ in 0..<records {
            let record = generator.next(account: "bench")
            rawBytes += record.requestBody.count + record.responseBody.count
            rawBytes += (Array(record.requestHeaders) + Array(record.responseHeaders)).reduce(0) {
                $0 + $1.name.utf8.count + $1.value.utf8.count
            }
            all.append(record)
        }
        let generationCPU = threadCPUSeconds() - generationBegan

        var configuration = LogStore.Configuration()
        configuration.segments.compressionLevel = level
        configuration.segments.blockBytes = blockBytes
        if let formatVersion { configuration.segments.formatVersion = formatVersion }
        let store = try LogStore(directory: directory, configuration: configuration, logger: logger)
        let clock = ContinuousClock()
        var lastCommit = clock.now
        let began = clock.now
        let cpuBegan = threadCPUSeconds()
        var appendCPU = 0.0
        var commitCPU = 0.0
        var index = 0
        while index < all.count {
            let end = min(index + batch, all.count)
            let t0 = threadCPUSeconds()
            try store.append(Array(all[index..<end]))
            appendCPU += threadCPUSeconds() - t0
            index = end
            if clock.now - lastCommit >= .milliseconds(commitIntervalMs) {
                let t1 = threadCPUSeconds()
                try store.commit()
                commitCPU += threadCPUSeconds() - t1
                lastCommit = clock.now
            }
        }
        let t2 = threadCPUSeconds()
        try store.commit()
        commitCPU += threadCPUSeconds() - t2
        let elapsed = clock.now - began
        let cpu = threadCPUSeconds() - cpuBegan
        try store.close()

        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let stored = try folderSize(directory + "/segments") + ((try? folderSize(directory + "/dicts")) ?? 0)
        let catalogBytes = try folderSize(directory, matching: "catalog")
        print(
            "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB"
        )
        print(
            "records: \(records), batch \(batch), commit every \(commitIntervalMs) ms, zstd level \(level), "
                + "blocks of \(blockBytes) bytes, format version \(configuration.segments.formatVersion)")
        print(
            String(
                format: "append: %.0f records/s, %.1f MB/s of raw payload (%.2f s)",
                Double(records) / seconds, Double(rawBytes) / seconds / 1e6, seconds))
        print(
            String(
                format: "writer thread CPU: %.2f s (append %.2f s, commit %.2f s) = %.0f records per CPU-second",
                cpu, appendCPU, commitCPU, Double(records) / cpu))
        print(
            String(
                format:
                    "raw payload: %.1f MB (bodies + headers); segments + dictionaries: %.1f MB; ratio %.2f× (stored/raw = %.3f)",
                Double(rawBytes) / 1e6, Double(stored) / 1e6, Double(rawBytes) / Double(stored),
                Double(stored) / Double(rawBytes)))
        print(try storedParts(directory, records: records, rawBytes: rawBytes))
        print(String(format: "catalog (log index): %.1f MB", Double(catalogBytes) / 1e6))
        print(
            String(
                format: "generate: %.0f records per CPU-second (%.2f s, not part of the writer's figures)",
                Double(records) / generationCPU, generationCPU))
        print(try readLatency(directory))
        let rss = peakRSS()  // the store's: before the zstd-alone pass below
        print(try zstdAlone(all, directory: directory, version: configuration.segments.formatVersion))
        print("peak RSS: \(rss)")
    }

    /// What zstd alone costs for the same records: their encodings (format version 4: their payload parts) put in
    /// blocks of `blockBytes` as the writer puts them, each block compressed at the same level with the store's
    /// dictionary. The writer's own bound: it does this and more for every record.
    private func zstdAlone(_ records: [LogRecord], directory: String, version: UInt8) throws -> String {
        // The newest dictionary, the one the store compressed with.
        let dicts = directory + "/dicts"
        let ids = ((try? FileManager.default.contentsOfDirectory(atPath: dicts)) ?? []).compactMap { name in
            name.hasSuffix(".dict") ? UInt32(name.dropLast(5)) : nil
        }
        guard let id = ids.max(), let data = FileManager.default.contents(atPath: "\(dicts)/\(id).dict") else {
            return "zstd alone: no dictionary was trained"
        }
        let compressor = try ZstdCompressor(level: level, dictionary: try ZstdDictionary(bytes: Array(data)))
        var block: [UInt8] = []
        block.reserveCapacity(blockBytes + 64 << 10)
        var raw = 0
        var stored = 0
        var cpu = 0.0
        func compress() throws {
            let began = threadCPUSeconds()
            stored += try compressor.compress(block).count
            cpu += threadCPUSeconds() - began
            raw += block.count
            block.removeAll(keepingCapacity: true)
        }
        for record in records {
            block.append(contentsOf: RecordCodec.encode(record, part: version >= 4 ? .payload : .whole))
            if block.count >= blockBytes { try compress() }
        }
        if !block.isEmpty { try compress() }
        return String(
            format:
                "zstd alone (the same records' %@ in blocks of %d bytes, level %d, the store's dictionary): "
                + "%.0f records per CPU-second, %.0f MB/s, stored/encoded = %.3f",
            version >= 4 ? "payload parts" : "encodings", blockBytes, level, Double(records.count) / cpu,
            Double(raw) / cpu / 1e6, Double(stored) / Double(raw))
    }

    /// The segments' bytes by part (`SegmentReader.parts(of:)`), per record and as a share of the raw payload.
    private func storedParts(_ directory: String, records: Int, rawBytes: Int) throws -> String {
        let reader = SegmentReader(directory: directory)
        let total = try reader.segments().reduce(SegmentParts()) { $0 + (try reader.parts(of: $1)) }
        func part(_ name: String, _ bytes: UInt64) -> String {
            String(format: "%.1f (%.3f) ", Double(bytes) / Double(records), Double(bytes) / Double(rawBytes)) + name
        }
        return "segments by part, bytes a record (share of raw): "
            + [
                part("record blocks", total.records), part("columns", total.columns), part("id index", total.index),
                part("file headers and footers", total.framing),
            ].joined(separator: ", ")
    }

    /// Reads up to 2,000 records of the sealed segments one by one, in random order, through a fresh reader (each
    /// read: pread, checksum, decompress, decode), and reports the time per read.
    private func readLatency(_ directory: String) throws -> String {
        let reader = SegmentReader(directory: directory)
        var locations: [RecordLocation] = []
        for segment in try reader.segments() where try reader.footer(of: segment) != nil {
            let columns = try reader.columns(of: segment)
            for (offset, length) in zip(columns.offsets, columns.lengths) {
                locations.append(RecordLocation(segment: segment, offset: offset, length: length))
            }
        }
        guard !locations.isEmpty else { return "single-record read: no sealed segment" }
        var rng = SplitMix64(seed: seed)
        let sample = (0..<min(2_000, locations.count)).map { _ in locations[Int(rng.next() % UInt64(locations.count))] }
        _ = try reader.read(sample[0])  // loads the dictionary once
        let clock = ContinuousClock()
        var times: [Double] = []
        times.reserveCapacity(sample.count)
        for location in sample {
            let began = clock.now
            _ = try reader.read(location)
            let elapsed = clock.now - began
            times.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
        }
        times.sort()
        return String(
            format:
                "single-record read (%d random records of sealed segments): median %.0f µs, p99 %.0f µs, max %.0f µs",
            times.count, times[times.count / 2], times[times.count * 99 / 100], times[times.count - 1])
    }

    private func folderSize(_ path: String, matching prefix: String? = nil) throws -> Int {
        var total = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            if let prefix, !name.hasPrefix(prefix) { continue }
            let attributes = try FileManager.default.attributesOfItem(atPath: path + "/" + name)
            if attributes[.type] as? FileAttributeType == .typeRegular {
                total += (attributes[.size] as? Int) ?? 0
            }
        }
        return total
    }
}

/// CPU time used by the calling thread, in seconds.
func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func peakRSS() -> String {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "unknown" }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return line.dropFirst(6).trimmingCharacters(in: .whitespaces)
    }
    return "unknown"
}
