import Foundation

/// A one-line progress display on standard error:
/// `epoch 2 [#########.........] 450/1000 batches  1234.5 img/s`. Shown only when standard
/// error is a terminal or when forced; redrawn at most ten times a second. Used from one
/// thread (the loader's consumer).
public final class ProgressBar {
    public let label: String
    public let total: Int?
    private let status: TerminalStatusLine
    private let width = 24
    private let started = DispatchTime.now().uptimeNanoseconds

    public var isEnabled: Bool { status.isEnabled }

    /// `forced` true shows it even when standard error is not a terminal; false never shows it;
    /// nil shows it on a terminal.
    public init(label: String, total: Int? = nil, forced: Bool? = nil) {
        self.label = label
        self.total = total.flatMap { $0 > 0 ? $0 : nil }
        status = TerminalStatusLine(forced: forced, minimumInterval: 100_000_000)
    }

    /// The line for `done` steps and `items` items so far (no drawing).
    public func line(done: Int, items: Int, now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> String {
        let seconds = max(1e-9, Double(now &- started) / 1e9)
        let rate = String(format: "%.1f", Double(items) / seconds)
        if let total {
            let filled = min(width, done * width / total)
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            return "\(label) [\(bar)] \(done)/\(total) batches  \(rate) img/s"
        }
        return "\(label) \(done) batches  \(rate) img/s"
    }

    /// Redraws (throttled) after `done` steps and `items` items.
    public func update(done: Int, items: Int) {
        status.update(always: done == total) { line(done: done, items: items, now: $0) }
    }

    /// Draws the final state and ends the line.
    public func finish(done: Int, items: Int) {
        guard isEnabled else { return }
        status.finish(line(done: done, items: items))
    }
}
