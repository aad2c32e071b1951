import CTorch
import Foundation

/// How glibc's malloc serves libtorch's CPU tensors.
///
/// A training step allocates and frees the same activations, gradients and temporaries every
/// step, most of them above glibc's mmap threshold (128 KiB at start, sliding up with use): each
/// becomes a fresh mapping that the kernel zeroes page by page on first touch and that is
/// unmapped again when freed. Serving blocks up to 32 MiB from the heap, and returning freed heap
/// to the system only beyond 1 GiB, lets the next step reuse the same memory: `vlp-bench
/// train-step`'s fp32 step took 4% less time, for 4–8% more peak memory (README, "Memory
/// allocator"). PyTorch users get the same effect by preloading jemalloc or tcmalloc.
///
/// As with `TorchThreads`, nothing is applied behind the caller's back: the `vlp` and
/// `vlp-bench` entry points and the test suites call `configureDefaults()` at start-up.
public enum HeapSettings {
    /// Blocks up to this size come from the heap (glibc's largest allowed threshold on 64-bit).
    public static let mmapThreshold: Int32 = 32 << 20
    /// Freed memory at the top of the heap is returned to the system beyond this size.
    public static let trimThreshold: Int32 = 1 << 30
    /// Whether `configureDefaults()` applied the thresholds in this process.
    public private(set) static var isApplied = false

    /// Applies the thresholds, unless `VLP_KEEP_MALLOC_DEFAULTS` is set or `GLIBC_TUNABLES`
    /// already tunes malloc (the user's own settings win). Returns whether they were applied:
    /// false also where the C library is not glibc (or an instrumented allocator refuses them).
    @discardableResult
    public static func configureDefaults(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard environment["VLP_KEEP_MALLOC_DEFAULTS"] == nil else { return false }
        if let tunables = environment["GLIBC_TUNABLES"], tunables.contains("glibc.malloc.") { return false }
        guard vt_set_heap_thresholds(mmapThreshold, trimThreshold) else { return false }
        isApplied = true
        return true
    }
}
