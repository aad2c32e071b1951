import CTorch
import Foundation

/// Data-parallel training over a `ProcessGroup`, the way PyTorch's `DistributedDataParallel`
/// does it: every rank holds a full replica, computes gradients on its shard of the batch, and
/// the gradients are averaged across ranks before the optimizer step, so that all replicas
/// take the same step. With a mean-reduced loss, averaging the gradients of equal shards gives
/// exactly the gradient of the whole batch.
///
///     let ddp = try DataParallel(module: model, group: group)   // rank 0's weights everywhere
///     let loss = try lossFunction(model(x), y)
///     try loss.backward()            // buckets start all-reducing as their gradients arrive
///     try ddp.synchronizeGradients() // waits, averages, writes the gradients back
///     try optimizer.step()
///
/// **Buckets.** The trainable parameters are packed, in reverse registration order (gradients
/// arrive roughly from the last layer back), into buckets of about `bucketCapMB` MiB of one
/// dtype each; a bucket's gradients are copied into one contiguous tensor and reduced by one
/// all-reduce (sum), then divided by the world size and copied back.
///
/// **Overlap with backward.** With `overlapsBackward` on (the default), a post-hook on every
/// parameter's AccumulateGrad node (installed by the C++ shim, as c10d's Reducer does) marks the
/// parameter ready during backward; a bucket whose parameters are all ready starts its
/// all-reduce on Gloo's threads while backward goes on. Buckets start strictly in bucket order,
/// so every rank issues the same sequence of collectives. `synchronizeGradients()` after the
/// backward starts whatever is left, waits, and writes the averages back; it must be called
/// after every backward (for gradient accumulation, run the extra backward passes inside
/// `withoutGradientSynchronization`).
///
/// **Parameters without a gradient** (unused in this rank's forward) count as zeros in the
/// sum, and a per-parameter count of the ranks that had a gradient is all-reduced with the
/// buckets: a parameter that got a gradient on any rank gets the average (sum / world size) on
/// every rank, one that got none anywhere keeps no gradient everywhere. Parameters that do not
/// require grad when the wrapper is made (frozen) are left out; freezing or unfreezing later
/// needs a new `DataParallel`.
public final class DataParallel {
    public let module: Module
    public let group: ProcessGroup
    public let bucketCapMB: Double
    /// The trainable parameters at construction, in the module's order.
    public let parameters: [(name: String, tensor: Tensor)]
    let reducer: vt_reducer

    /// Whether bucket all-reduces start during backward (see the type's documentation). Off:
    /// every bucket is reduced in `synchronizeGradients()` after the backward.
    public var overlapsBackward: Bool {
        didSet { _ = vt_reducer_set_overlap(reducer, overlapsBackward ? 1 : 0) }
    }

    /// Broadcasts every parameter and buffer from rank 0, after checking that all ranks hold
    /// the same model (parameter and buffer counts, element counts and a hash of the shapes
    /// and dtypes); a mismatch throws on every rank, naming what differs.
    public init(module: Module, group: ProcessGroup, bucketCapMB: Double = 25, overlapsBackward: Bool = true) throws {
        guard bucketCapMB > 0 else { throw TorchError("DataParallel", "bucketCapMB must be positive, got \(bucketCapMB)") }
        self.module = module
        self.group = group
        self.bucketCapMB = bucketCapMB
        self.overlapsBackward = overlapsBackward
        try Self.checkSameModel(module, group)
        let state = module.stateDict().map(\.tensor)
        try withHandles(state) {
            try check(vt_broadcast_coalesced(group.handle, $0, $1, 0, group.milliseconds),
                      "DataParallel: broadcasting \(state.count) parameters and buffers from rank 0 on rank \(group.rank)")
        }
        parameters = module.namedParameters().filter { $0.tensor.requiresGrad && $0.tensor.isLeaf }
        let trainable = parameters.map(\.tensor)
        let capBytes = Int64(bucketCapMB * 1024 * 1024)
        guard let r = withHandles(trainable, { vt_reducer_new(group.handle, $0, $1, capBytes, overlapsBackward ? 1 : 0, group.milliseconds) }) else {
            throw TorchError.lastError("DataParallel: preparing gradient buckets on rank \(group.rank)")
        }
        reducer = r
    }

    deinit {
        vt_reducer_free(reducer)
    }

    /// Averages the gradients across ranks (see the type's documentation). Every rank must call
    /// it once after each backward; a rank that has left makes it throw within the group's timeout.
    public func synchronizeGradients() throws {
        try check(vt_reducer_synchronize(reducer), "DataParallel.synchronizeGradients on rank \(group.rank) of \(group.worldSize)")
    }

    /// Runs `body` (typically a backward pass whose gradients are to be accumulated locally)
    /// without starting any all-reduce; the next `synchronizeGradients()` reduces the sum.
    public func withoutGradientSynchronization<R>(_ body: () throws -> R) rethrows -> R {
        let saved = overlapsBackward
        overlapsBackward = false
        defer { overlapsBackward = saved }
        return try body()
    }

    /// Overwrites every buffer (BatchNorm running statistics, …) with rank 0's.
    public func broadcastBuffers() throws {
        let buffers = module.namedBuffers().map(\.tensor)
        guard !buffers.isEmpty else { return }
        try withHandles(buffers) {
            try check(vt_broadcast_coalesced(group.handle, $0, $1, 0, group.milliseconds), "DataParallel.broadcastBuffers on rank \(group.rank)")
        }
    }

    /// Number of gradient buckets.
    public var bucketCount: Int { stats().buckets }
    /// Buckets whose all-reduce started during the last backward (0 without overlap).
    public var bucketsStartedDuringLastBackward: Int { stats().launched }
    /// Seconds the last `synchronizeGradients()` spent waiting for communication.
    public var lastCommunicationWaitSeconds: Double { stats().wait }

    private func stats() -> (buckets: Int, launched: Int, wait: Double) {
        var buckets: Int64 = 0, launched: Int64 = 0, wait = 0.0
        _ = vt_reducer_stats(reducer, &buckets, &launched, &wait)
        return (Int(buckets), Int(launched), wait)
    }

    /// All-gathers a cheap signature of the model and throws, on every rank, when ranks differ.
    static func checkSameModel(_ module: Module, _ group: ProcessGroup) throws {
        let params = module.namedParameters(), buffers = module.namedBuffers()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a over names' shapes and dtypes
        for (_, t) in params + buffers {
            for v in t.shape + [-1, Int(t.dtype.rawValue), -2] {
                hash = (hash ^ UInt64(bitPattern: Int64(v))) &* 0x100_0000_01b3
            }
        }
        let signature: [Int64] = [Int64(params.count), Int64(params.reduce(0) { $0 + $1.tensor.count }),
                                  Int64(buffers.count), Int64(buffers.reduce(0) { $0 + $1.tensor.count }),
                                  Int64(hash & 0xff_ffff_ffff_ffff)]
        let gathered = try group.allGather(try Tensor(signature, shape: [1, signature.count])).toArray(Int64.self)
        let rows = stride(from: 0, to: gathered.count, by: signature.count).map { Array(gathered[$0..<($0 + signature.count)]) }
        guard let mismatch = rows.firstIndex(where: { $0 != rows[0] }) else { return }
        func describe(_ r: Int) -> String {
            let s = rows[r]
            return "rank \(r) has \(s[0]) parameters (\(s[1]) elements) and \(s[2]) buffers (\(s[3]) elements), shape hash \(String(s[4], radix: 16))"
        }
        throw TorchError("DataParallel on rank \(group.rank)", "ranks hold different models: \(describe(0)); \(describe(mismatch))")
    }
}
