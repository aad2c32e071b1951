import CTorch
import Foundation

/// How many threads libtorch and its BLAS use.
///
/// libtorch's intra-op pool (OpenMP) and OpenBLAS's own pool both size themselves to the core
/// count and fight over the cores: while one computes, the other's threads spin or yield (on the
/// 2-core machine a quarter of a ViT-B/16 forward's cycles; README, "Threads"). So by default the
/// BLAS runs single-threaded and the intra-op pool gets the cores; without autograd, large fp32
/// products are split across that pool, each part one single-threaded BLAS call
/// (CTorch/PooledProducts.cpp), so embedding, indexing and evaluation still use every core.
/// `VLP_NUM_THREADS` and `VLP_BLAS_THREADS` override both (a BLAS with more than one thread turns
/// the split off).
///
/// Nothing is applied behind the caller's back: a program calls `configureDefaults()` once at
/// start-up, before its first tensor (the `vlp` and `vlp-bench` entry points and the test
/// suites do); a library user who does not keeps libtorch's own settings. Setting `intraOp` or
/// calling `setBLASThreads` afterwards overrides the defaults.
public enum TorchThreads {
    /// Threads in libtorch's intra-op pool.
    public static var intraOp: Int {
        get { Int(vt_get_num_threads()) }
        set { _ = vt_set_num_threads(Int32(Swift.max(1, newValue))) }
    }

    /// OpenBLAS's thread count; nil when libtorch's BLAS is not OpenBLAS.
    public static var blasThreads: Int? {
        let n = vt_get_blas_threads()
        return n < 0 ? nil : Int(n)
    }

    /// Sets OpenBLAS's thread count; returns false when libtorch's BLAS is not OpenBLAS.
    @discardableResult
    public static func setBLASThreads(_ n: Int) -> Bool {
        vt_set_blas_threads(Int32(Swift.max(1, n))) != 0
    }

    /// Applies the defaults described above, or the environment's overrides, and flushes denormals
    /// unless `VLP_KEEP_DENORMALS` is set: the settings every number in the README was measured
    /// with. Call it at start-up, before the first tensor (the intra-op pool's threads inherit the
    /// denormal mode when they are created). Idempotent.
    public static func configureDefaults(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let intra = environment["VLP_NUM_THREADS"].flatMap(Int.init) ?? cores
        let blas = environment["VLP_BLAS_THREADS"].flatMap(Int.init) ?? 1
        // Denormals first: the intra-op pool's threads, created later, inherit the setting.
        if environment["VLP_KEEP_DENORMALS"] == nil { flushDenormals(true) }
        _ = vt_set_num_threads(Int32(Swift.max(1, intra)))
        _ = vt_set_blas_threads(Int32(Swift.max(1, blas)))
    }

    /// Flushes denormal floats to zero (PyTorch's `torch.set_flush_denormal`) on the calling
    /// thread and the threads it starts later; `configureDefaults()` turns it on
    /// (`VLP_KEEP_DENORMALS=1` keeps them). Training makes softmax outputs — MLM over a
    /// 21,128-word vocabulary, distillation at temperature 0.04 — underflow into the denormal
    /// range, where x86 arithmetic is many times slower. Returns whether the CPU supports it.
    @discardableResult
    public static func flushDenormals(_ on: Bool) -> Bool {
        vt_set_flush_denormal(on)
    }
}
