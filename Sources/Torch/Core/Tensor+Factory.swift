import CTorch

@inline(__always)
func withShape<R>(_ shape: [Int], _ body: (UnsafePointer<Int64>?, Int) throws -> R) rethrows -> R {
    let dims = shape.map(Int64.init)
    return try dims.withUnsafeBufferPointer { try body($0.baseAddress, dims.count) }
}

extension Tensor {
    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        let d = device.code
        return try withShape(shape) { try wrap(vt_zeros($0, $1, dtype.rawValue, d.type, d.index), "zeros(\(shape))") }
    }

    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        let d = device.code
        return try withShape(shape) { try wrap(vt_ones($0, $1, dtype.rawValue, d.type, d.index), "ones(\(shape))") }
    }

    /// Uninitialised memory, for outputs that are overwritten at once.
    public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        let d = device.code
        return try withShape(shape) { try wrap(vt_empty($0, $1, dtype.rawValue, d.type, d.index), "empty(\(shape))") }
    }

    public static func full(_ shape: [Int], _ value: ScalarConvertible, dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        let d = device.code
        return try withShape(shape) { try wrap(vt_full($0, $1, value.scalar, dtype.rawValue, d.type, d.index), "full(\(shape))") }
    }

    /// Values from `start` up to (not including) `end`, `step` apart.
    public static func arange(_ start: Double = 0, _ end: Double, step: Double = 1, dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        let d = device.code
        return try wrap(vt_arange(start.scalar, end.scalar, step.scalar, dtype.rawValue, d.type, d.index), "arange(\(start), \(end), \(step))")
    }

    /// Integers `0..<end` as int64.
    public static func arange(_ end: Int, device: Device = .cpu) throws -> Tensor {
        let d = device.code
        return try wrap(vt_arange(0.scalar, end.scalar, 1.scalar, DType.int64.rawValue, d.type, d.index), "arange(\(end))")
    }

    /// Standard normal samples from the global generator (see `manualSeed`).
    public static func randn(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        let d = device.code
        return try withShape(shape) { try wrap(vt_randn($0, $1, dtype.rawValue, d.type, d.index), "randn(\(shape))") }
    }

    /// Uniform samples in [0, 1).
    public static func rand(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        let d = device.code
        return try withShape(shape) { try wrap(vt_rand($0, $1, dtype.rawValue, d.type, d.index), "rand(\(shape))") }
    }

    /// Uniform integers in `low..<high`.
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .int64, device: Device = .cpu) throws -> Tensor {
        let d = device.code
        return try withShape(shape) { try wrap(vt_randint(Int64(low), Int64(high), $0, $1, dtype.rawValue, d.type, d.index), "randint(\(low), \(high), \(shape))") }
    }

    /// A tensor holding `values`; `shape` defaults to one dimension of `values.count`.
    public convenience init<T: TensorElement>(_ values: [T], shape: [Int]? = nil) throws {
        let shape = shape ?? [values.count]
        let handle = try values.withUnsafeBytes { bytes in
            try withShape(shape) { dims, n -> vt_tensor in
                guard let h = vt_from_data(bytes.baseAddress, bytes.count, dims, n, T.dtype.rawValue) else {
                    throw TorchError.lastError("Tensor(\(values.count) values, shape: \(shape))")
                }
                return h
            }
        }
        self.init(owning: handle)
    }

    /// A tensor whose elements are copied from raw memory laid out row-major.
    public convenience init(bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType) throws {
        let handle = try withShape(shape) { dims, n -> vt_tensor in
            guard let h = vt_from_data(bytes.baseAddress, bytes.count, dims, n, dtype.rawValue) else {
                throw TorchError.lastError("Tensor(bytes: \(bytes.count), shape: \(shape), dtype: \(dtype))")
            }
            return h
        }
        self.init(owning: handle)
    }

    /// A tensor over `bytes` without copying them, for reading only while `bytes` stay valid
    /// (`SafeTensors.withTensors`); the caller checks the size and the alignment.
    convenience init(borrowing bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType) throws {
        let handle = try withShape(shape) { dims, n -> vt_tensor in
            guard let h = vt_from_blob(bytes.baseAddress, dims, n, dtype.rawValue) else {
                throw TorchError.lastError("Tensor(borrowing: \(bytes.count), shape: \(shape), dtype: \(dtype))")
            }
            return h
        }
        self.init(owning: handle)
    }

    /// A zero-dimensional tensor.
    public convenience init(scalar value: ScalarConvertible, dtype: DType = .float32) throws {
        guard let h = vt_scalar_tensor(value.scalar, dtype.rawValue) else { throw TorchError.lastError("Tensor(scalar:)") }
        self.init(owning: h)
    }

    public static func zeros(like other: Tensor) throws -> Tensor {
        try zeros(other.shape, dtype: other.dtype, device: other.device)
    }

    public static func ones(like other: Tensor) throws -> Tensor {
        try ones(other.shape, dtype: other.dtype, device: other.device)
    }
}

/// Seeds libtorch's global random generator (CPU and CUDA).
public func manualSeed(_ seed: UInt64) {
    _ = vt_manual_seed(seed)
}
