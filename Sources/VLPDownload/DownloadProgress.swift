import Foundation
import VLP

/// The one-line progress display of a download on standard error:
/// `download 1200/5000 rows  38.5 samples/s  success 91.2%  ETA 1m39s`. Shown on a terminal
/// (or when forced), redrawn at most five times a second.
final class DownloadProgress {
    let total: Int
    private let status: TerminalStatusLine
    private let started = DispatchTime.now().uptimeNanoseconds

    var isEnabled: Bool { status.isEnabled }

    init(total: Int, forced: Bool?) {
        self.total = total
        status = TerminalStatusLine(forced: forced, minimumInterval: 200_000_000)
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
        status.update { line(done: done, successes: successes, now: $0) }
    }

    func finish(done: Int, successes: Int) {
        guard isEnabled else { return }
        status.finish(line(done: done, successes: successes))
    }
}
