import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress display on standard error:
/// `epoch 2 [#########.........] 450/1000 batches  1234.5 img/s`. Shown only when standard
/// error is a terminal or when forced; redrawn at most ten times a second. Used from one
/// thread (the loader's consumer).
public final class ProgressBar {
    public let label: String
    public let total: Int?
    public let isEnabled: Bool
    private let width = 24
    private let started = DispatchTime.now().uptimeNanoseconds
    private var lastDraw: UInt64 = 0
    private var lastLineLength = 0

    /// `forced` true shows it even when standard error is not a terminal; false never shows it;
    /// nil shows it on a terminal.
    public init(label: String, total: Int? = nil, forced: Bool? = nil) {
        self.label = label
        self.total = total.flatMap { $0 > 0 ? $0 : nil }
        self.isEnabled = forced ?? (isatty(STDERR_FILENO) == 1)
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
        guard isEnabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now &- lastDraw >= 100_000_000 || done == total else { return }
        lastDraw = now
        draw(line(done: done, items: items, now: now), ending: "")
    }

    /// Draws the final state and ends the line.
    public func finish(done: Int, items: Int) {
        guard isEnabled else { return }
        draw(line(done: done, items: items), ending: "\n")
    }

    private func draw(_ text: String, ending: String) {
        let padding = String(repeating: " ", count: max(0, lastLineLength - text.count))
        lastLineLength = ending.isEmpty ? text.count : 0
        FileHandle.standardError.write(Data(("\r" + text + padding + ending).utf8))
    }
}
