import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A line on standard error redrawn in place (carriage return, then padded over the previous
/// text), as progress displays draw. Shown only when standard error is a terminal or when
/// forced; redraws are throttled. Used from one thread.
public final class TerminalStatusLine {
    public let isEnabled: Bool
    private let interval: UInt64
    private var lastDraw: UInt64 = 0
    private var lastLength = 0

    /// `forced` true shows it even when standard error is not a terminal; false never shows it;
    /// nil shows it on a terminal. `minimumInterval`: nanoseconds between redraws.
    public init(forced: Bool?, minimumInterval: UInt64) {
        isEnabled = forced ?? (isatty(STDERR_FILENO) == 1)
        interval = minimumInterval
    }

    /// Redraws with `text(now)` unless the last redraw was under the interval ago (`always`
    /// redraws regardless).
    public func update(always: Bool = false, _ text: (_ now: UInt64) -> String) {
        guard isEnabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard always || now &- lastDraw >= interval else { return }
        lastDraw = now
        draw(text(now), ending: "")
    }

    /// Draws `text` and ends the line.
    public func finish(_ text: String) {
        guard isEnabled else { return }
        draw(text, ending: "\n")
    }

    private func draw(_ text: String, ending: String) {
        let padding = String(repeating: " ", count: max(0, lastLength - text.count))
        lastLength = ending.isEmpty ? text.count : 0
        FileHandle.standardError.write(Data(("\r" + text + padding + ending).utf8))
    }
}
