import CTorch

/// An n-dimensional array on the CPU or a GPU, recorded by autograd when it requires a
/// gradient. Owns one libtorch tensor handle, released when the last reference goes.
///
/// Operations throw `TorchError` with libtorch's message instead of crashing; one `try` covers
/// a whole expression: `let y = try x.matmul(w) + b`.
public final class Tensor {
    let handle: vt_tensor

    /// Takes ownership of a handle returned by CTorch.
    init(owning handle: vt_tensor) {
        self.handle = handle
    }

    deinit {
        vt_free(handle)
    }

    /// Number of dimensions.
    public var rank: Int { Int(vt_dim(handle)) }

    /// Size of each dimension.
    public var shape: [Int] {
        let n = rank
        var dims = [Int64](repeating: 0, count: n)
        _ = vt_shape(handle, &dims, n)
        return dims.map(Int.init)
    }

    /// Element strides of each dimension.
    public var strides: [Int] {
        let n = rank
        var values = [Int64](repeating: 0, count: n)
        _ = vt_strides(handle, &values, n)
        return values.map(Int.init)
    }

    /// Size of one dimension; negative indices count from the end.
    public func size(_ dim: Int) -> Int {
        let s = shape
        return s[dim < 0 ? dim + s.count : dim]
    }

    /// Total number of elements.
    public var count: Int { Int(vt_numel(handle)) }

    public var dtype: DType { DType(rawValue: vt_dtype(handle)) ?? .float32 }

    public var device: Device {
        vt_device_type(handle) == Int32(VT_CUDA) ? .cuda(Int(Swift.max(0, vt_device_index(handle)))) : .cpu
    }

    public var isContiguous: Bool { vt_is_contiguous(handle) }

    /// The single value of a one-element tensor.
    public func item() throws -> Double {
        var value = 0.0
        try check(vt_item(handle, &value), "item() of tensor with shape \(shape)")
        return value
    }

    /// The single value of a one-element tensor, as an integer.
    public func itemInt() throws -> Int {
        var value: Int64 = 0
        try check(vt_item_int(handle, &value), "itemInt() of tensor with shape \(shape)")
        return Int(value)
    }

    /// The elements in row-major order, copied to the CPU. `T` must match `dtype`.
    public func toArray<T: TensorElement>(_ type: T.Type = T.self) throws -> [T] {
        guard T.dtype == dtype else {
            throw TorchError("toArray", "tensor has dtype \(dtype), asked for \(T.self) (\(T.dtype)); convert with to(dtype:) first")
        }
        let n = count
        return try [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            if n > 0 {
                try check(vt_copy_to(handle, buffer.baseAddress!, n * MemoryLayout<T>.stride), "toArray")
            }
            initialized = n
        }
    }

    /// The elements as `Float`, converting from any dtype.
    public func floats() throws -> [Float] {
        dtype == .float32 ? try toArray(Float.self) : try to(.float32).toArray(Float.self)
    }

    /// A copy with another dtype and/or device (a no-op returning the same storage when both match).
    public func to(_ dtype: DType? = nil, device: Device? = nil, copy: Bool = false) throws -> Tensor {
        let target = (device ?? self.device).code
        return try wrap(vt_to(handle, dtype?.rawValue ?? -1, target.type, target.index, copy),
                        "to(\(dtype.map { "\($0)" } ?? "same"), \(device.map { "\($0)" } ?? "same device"))")
    }

    /// A tensor with the same elements in contiguous memory.
    public func contiguous() throws -> Tensor { try wrap(vt_contiguous(handle), "contiguous") }

    /// A copy with its own storage (recorded by autograd).
    public func clone() throws -> Tensor { try wrap(vt_clone(handle), "clone") }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        if vt_describe(handle, &buffer, buffer.count) != 0 {
            vt_clear_error()
            return "Tensor(shape: \(shape), dtype: \(dtype))"
        }
        return String(cString: buffer)
    }
}
