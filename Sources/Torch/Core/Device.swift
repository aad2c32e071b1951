import CTorch

/// Where a tensor's memory lives.
public enum Device: Equatable, Hashable, Sendable, CustomStringConvertible {
    case cpu
    case cuda(Int)

    /// Whether the linked libtorch was built with CUDA and sees a GPU.
    public static var isCUDAAvailable: Bool { vt_cuda_is_available() }
    public static var cudaDeviceCount: Int { Int(vt_cuda_device_count()) }

    /// The first GPU when there is one, else the CPU.
    public static var best: Device { isCUDAAvailable ? .cuda(0) : .cpu }

    /// "cpu", "cuda" (GPU 0) or "cuda:N", as PyTorch writes devices.
    public init(parsing text: String) throws {
        let lowered = text.lowercased()
        if lowered == "cpu" { self = .cpu; return }
        if lowered == "cuda" { self = .cuda(0); return }
        if lowered.hasPrefix("cuda:"), let index = Int(lowered.dropFirst(5)), index >= 0 { self = .cuda(index); return }
        throw TorchError("device", "'\(text)' is not a device: use cpu, cuda or cuda:N")
    }

    /// Throws unless the linked libtorch can put tensors here.
    public func checkAvailable() throws {
        guard case .cuda(let index) = self, index >= Device.cudaDeviceCount else { return }
        throw TorchError("device", Device.isCUDAAvailable
            ? "\(self) does not exist (\(Device.cudaDeviceCount) GPUs visible)"
            : "\(self) was asked for, but the linked libtorch has no CUDA or sees no GPU")
    }

    /// Waits until every kernel queued on this device has run (`torch.cuda.synchronize`), so a
    /// wall-clock time covers the work and not only its queueing; nothing to wait for on the CPU.
    public func synchronize() throws {
        guard case .cuda(let index) = self else { return }
        try check(vt_cuda_synchronize(Int32(index)), "synchronizing \(self)")
    }

    var code: (type: Int32, index: Int32) {
        switch self {
        case .cpu: return (Int32(VT_CPU), -1)
        case .cuda(let index): return (Int32(VT_CUDA), Int32(index))
        }
    }

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .cuda(let index): return "cuda:\(index)"
        }
    }
}
