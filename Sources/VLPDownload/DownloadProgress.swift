import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one-line progress display of a download on standard error:
/// `download 1200/5000 rows  38.5 samples/s  success 91.2%  ETA 1m39s`. Shown on a terminal
/// (or when forced), redrawn at most five times a second.
final class DownloadProgress {
    let total: Int
    let isEnabled: Bool
    private let started = DispatchTime.now().uptimeNanoseconds
    private var lastDraw: UInt64 = 0
    private var lastLength = 0

    init(total: Int, forced: Bool?) {
        self.total = total
        isEnabled = forced ?? (isatty(STDERR_FILENO) == 1)
    }

    /// The line after `done` rows of which `successes` became samples.
    func line(done: Int, successes: Int, now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> String {
        let seconds = max(1e-9, Double(now &- started) / 1e9)
        let rowsPerSecond = Double(done) / seconds
        let rate = done == 0 ? 0 : 100 * Double(successes) / Double(done)
        var text = String(format: "download %d/%d rows  %.1f samples/s  success %.1f%%", done, total,
                          Double(successes) / seconds, rate)
        if done > 0 && done < total {
            let eta = Int((Double(total - done) / max(rowsPerSecond, 1e-9)).rounded())
            text += "  ETA " + (eta >= 3600 ? "\(eta / 3600)h\(eta % 3600 / 60)m" : eta >= 60 ? "\(eta / 60)m\(eta % 60)s" : "\(eta)s")
        }
        return text
    }

    func update(done: Int, successes: Int) {
        guard isEnabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now &- lastDraw >= 200_000_000 else { return }
        lastDraw = now
        draw(line(done: done, successes: successes, now: now), ending: "")
    }

    func finish(done: Int, successes: Int) {
        guard isEnabled else { return }
        draw(line(done: done, successes: successes), ending: "\n")
    }

    private func draw(_ text: String, ending: String) {
        let padding = String(repeating: " ", count: max(0, lastLength - text.count))
        lastLength = ending.isEmpty ? text.count : 0
        FileHandle.standardError.write(Data(("\r" + text + padding + ending).utf8))
    }
}
