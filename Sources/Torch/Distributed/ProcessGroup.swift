import CTorch
import Foundation

/// A group of processes that exchange tensors through libtorch's c10d (Gloo on CPU, NCCL on
/// GPUs), the engine PyTorch's DDP runs on. Every collective has a timeout: a rank that dies
/// makes the others throw within it instead of hanging.
public final class ProcessGroup {
    public enum ReduceOp: Int32, Sendable { case sum = 0, average = 1, max = 2, min = 3 }

    /// Gloo reduces CPU tensors; NCCL reduces CUDA tensors, one GPU per rank.
    public enum Backend: Int32, Sendable, CustomStringConvertible {
        case gloo = 0, nccl = 1

        /// NCCL for CUDA tensors, Gloo for CPU ones (what torchrun users pick by hand).
        public static func forTensors(on device: Device) -> Backend {
            if case .cuda = device { return .nccl }
            return .gloo
        }

        public var description: String { self == .gloo ? "gloo" : "nccl" }
    }

    /// Whether this build's C shim has the NCCL backend (built with `VLP_WITH_NCCL=1` against a
    /// libtorch with CUDA; see README).
    public static var isNCCLCompiled: Bool { vt_nccl_is_compiled() }

    let handle: vt_process_group
    public let rank: Int
    public let worldSize: Int
    public let backend: Backend
    /// Applies to the rendezvous and to each collective.
    public let timeout: Duration

    /// Joins (rank 0: hosts) the rendezvous at `environment`'s master address and port. With
    /// NCCL, this rank's GPU is `cuda:localRank` and becomes the current device.
    public init(_ environment: DistributedEnvironment, backend: Backend = .gloo, timeout: Duration = .seconds(300)) throws {
        guard let h = vt_process_group_new(backend.rawValue, environment.masterAddress, Int32(environment.masterPort),
                                           Int32(environment.rank), Int32(environment.worldSize),
                                           Int32(environment.localRank), Self.milliseconds(timeout)) else {
            throw TorchError.lastError("joining \(backend) process group at \(environment.masterAddress):\(environment.masterPort) as rank \(environment.rank) of \(environment.worldSize)")
        }
        handle = h
        rank = environment.rank
        worldSize = environment.worldSize
        self.backend = backend
        self.timeout = timeout
    }

    deinit {
        vt_process_group_free(handle)
    }

    var milliseconds: Int64 { Self.milliseconds(timeout) }

    static func milliseconds(_ duration: Duration) -> Int64 {
        Int64(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// Reduces `tensor` in place across ranks.
    public func allReduce(_ tensor: Tensor, _ op: ReduceOp = .sum) throws {
        try check(vt_all_reduce(handle, tensor.handle, op.rawValue, milliseconds), "allReduce on rank \(rank)")
    }

    /// Every rank's tensor (equal shapes) concatenated along dimension 0 in rank order.
    public func allGather(_ tensor: Tensor) throws -> Tensor {
        try wrap(vt_all_gather(handle, tensor.handle, milliseconds), "allGather on rank \(rank)")
    }

    /// `allGather` recorded by autograd: the backward sums the gradient over ranks and keeps
    /// this rank's rows (the global contrastive loss's gather).
    public func allGatherWithGradient(_ tensor: Tensor) throws -> Tensor {
        try wrap(vt_all_gather_with_grad(handle, tensor.handle, milliseconds), "allGatherWithGradient on rank \(rank)")
    }

    /// Overwrites `tensor` with rank `root`'s.
    public func broadcast(_ tensor: Tensor, from root: Int = 0) throws {
        try check(vt_broadcast(handle, tensor.handle, Int32(root), milliseconds), "broadcast from \(root) on rank \(rank)")
    }

    public func barrier() throws {
        try check(vt_barrier(handle, milliseconds), "barrier on rank \(rank)")
    }
}
