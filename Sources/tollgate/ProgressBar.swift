import Foundation
import TollgateModel

/// A progress bar on standard error: redrawn in place on a terminal (at most 10 times a second), one line per 10 %
/// otherwise, so piped output and CI logs stay readable.
final class ProgressBar {
    private let label: String
    private let total: Int
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let clock: TollgateClock
    private let started: UInt64
    /// When the bar was last drawn on a terminal (the clock's monotonic nanoseconds).
    private var lastDraw: UInt64?
    private var lastDecile = -1

    init(_ label: String, total: Int, clock: TollgateClock = .system) {
        self.label = label
        self.total = max(total, 1)
        self.clock = clock
        started = clock.monotonicNanoseconds()
    }

    func update(_ done: Int) {
        let now = clock.monotonicNanoseconds()
        let fraction = min(1, Double(done) / Double(total))
        if isTerminal {
            guard lastDraw.map({ now &- $0 >= 100_000_000 }) ?? true || done >= total else { return }
            lastDraw = now
            write("\r" + line(done, fraction: fraction, now: now))
        } else {
            let decile = Int(fraction * 10)
            guard decile > lastDecile else { return }
            lastDecile = decile
            write(line(done, fraction: fraction, now: now) + "\n")
        }
    }

    func finish(_ done: Int) {
        update(done)
        if isTerminal { write("\n") }
    }

    private func line(_ done: Int, fraction: Double, now: UInt64) -> String {
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let elapsed = Double(now &- started) / 1e9
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        return String(
            format: "%@ [%@] %3d%% %d/%d  %.0f/s  %@", label, bar, Int(fraction * 100), done, total, rate,
            done >= total ? String(format: "%.1fs", elapsed) : String(format: "ETA %.0fs", eta))
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
