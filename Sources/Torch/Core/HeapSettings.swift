import CTorch
import Foundation

/// How glibc's malloc serves libtorch's CPU tensors.
///
/// A training step or a batch's forward pass allocates and frees the same activations, gradients
/// and temporaries again and again, most of them above glibc's mmap threshold (128 KiB at start,
/// sliding up with use, never past 32 MiB): each becomes a fresh mapping that the kernel zeroes
/// page by page on first touch and that is unmapped again when freed. Serving every block from the
/// heap, and returning freed heap to the system only beyond 1 GiB, lets the next use take the same
/// memory: `vlp-bench train-step`'s fp32 step took 4% less time with blocks up to 32 MiB on the heap,
/// and the CN-CLIP ViT-B/16 image forward at batch 64 (activations of 39 MiB and more) 29% less
/// with every block there, for 30% more peak memory (README, "Memory allocator"). PyTorch users
/// get the same effect by preloading jemalloc or tcmalloc.
///
/// As with `TorchThreads`, nothing is applied behind the caller's back: the `vlp` and
/// `vlp-bench` entry points and the test suites call `configureDefaults()` at start-up.
public enum HeapSettings {
    /// Blocks up to this size come from the heap (glibc's largest allowed threshold on 64-bit).
    public static let mmapThreshold: Int32 = 32 << 20
    /// Larger blocks too: glibc mmaps nothing (it still does when the heap cannot grow).
    public static let heapOnly = true
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
        guard vt_set_heap_thresholds(mmapThreshold, trimThreshold, heapOnly) else { return false }
        isApplied = true
        return true
    }
}
