import Foundation

/// Counts the floating-point operations of the matrix products run through this module's
/// forward functions (`linear`, `matmul`, `bmm`, `conv2d`, `scaledDotProductAttention`), as
/// fvcore / PyTorch's `FlopCounterMode` do: 2·M·N·K per product, one multiply-add = 2 FLOPs.
/// Elementwise ops, norms and softmax are not counted, nor is the backward pass (about twice
/// the forward) since autograd runs it inside libtorch.
///
/// Counting is process-wide while a `count` scope is open; scopes do not nest.
public enum FlopCounter {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var active = false
    nonisolated(unsafe) private static var total: Double = 0

    /// Runs `body` and returns its result with the FLOPs it ran.
    public static func count<R>(_ body: () throws -> R) rethrows -> (result: R, flops: Double) {
        lock.lock(); active = true; total = 0; lock.unlock()
        defer { lock.lock(); active = false; lock.unlock() }
        let result = try body()
        lock.lock(); let flops = total; lock.unlock()
        return (result, flops)
    }

    @inline(__always) static var isActive: Bool { active }

    static func add(_ flops: Double) {
        lock.lock(); total += flops; lock.unlock()
    }

    /// A product whose output has `outputElements` entries, each a dot product of length `inner`.
    static func recordProduct(outputElements: Int, inner: Int) {
        guard active else { return }
        add(2 * Double(outputElements) * Double(inner))
    }
}
