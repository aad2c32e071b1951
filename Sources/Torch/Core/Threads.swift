import CTorch
import Foundation

/// How many threads libtorch and its BLAS use.
///
/// libtorch's intra-op pool and OpenBLAS's own pool both size themselves to the core count,
/// and on a small machine they oversubscribe: on the 2-core CI machine, 2 intra-op threads plus
/// OpenBLAS's threads were measured slower than 1 (see README, "Threads"). So by default the
/// BLAS runs single-threaded (libtorch already parallelises around it) and the intra-op pool
/// gets the cores. `VLP_NUM_THREADS` and `VLP_BLAS_THREADS` override both.
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

    /// The setting for batch inference — embedding, indexing, evaluation: BLAS threads as many as
    /// the intra-op threads, unless `VLP_BLAS_THREADS` says otherwise. A ViT-B's forward pass over a
    /// batch is mostly large matrix products, which a single-threaded BLAS ran at 0.56–0.61× the
    /// speed of two threads on the 2-core machine (README, "Threads"); training steps, and the
    /// one-query-at-a-time search and server, keep the single-threaded default
    /// `configureDefaults()` sets. `vlp embed`, `index` and `evaluate` call it before their work.
    public static func configureForInference(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard environment["VLP_BLAS_THREADS"] == nil else { return }
        setBLASThreads(intraOp)
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
