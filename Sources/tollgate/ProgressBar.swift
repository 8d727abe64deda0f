import Foundation

/// A progress bar on standard error: redrawn in place on a terminal (at most 10 times a second), one line per 10 %
/// otherwise, so piped output and CI logs stay readable.
final class ProgressBar {
    private let label: String
    private let total: Int
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let started = ContinuousClock.now
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private var lastDecile = -1

    init(_ label: String, total: Int) {
        self.label = label
        self.total = max(total, 1)
    }

    func update(_ done: Int) {
        let now = ContinuousClock.now
        let fraction = min(1, Double(done) / Double(total))
        if isTerminal {
            guard now - lastDraw >= .milliseconds(100) || done >= total else { return }
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

    private func line(_ done: Int, fraction: Double, now: ContinuousClock.Instant) -> String {
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let elapsed = Double((now - started).components.seconds) + Double((now - started).components.attoseconds) / 1e18
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
