import CTorch

/// Runs `body` under libtorch's autocast on `device`'s type (torch.autocast): matrix products and
/// convolutions compute in `dtype` (bfloat16, or float16 on CUDA), reading fp32 parameters through
/// cast copies, while losses, softmax, layer norms and norms read their inputs in float32 (the
/// shim's fp32 policy, `autocast_fp32`). Parameters and their gradients stay float32. Run the
/// forward inside and the backward outside, as with PyTorch.
///
/// ```swift
/// let loss = try withAutocast(on: .cpu, dtype: .bfloat16) { try model(inputs) }
/// try loss.backward()
/// ```
public func withAutocast<R>(on device: Device, dtype: DType, _ body: () throws -> R) throws -> R {
    guard let region = vt_autocast_enter(device.code.type, dtype.rawValue) else {
        throw TorchError.lastError("autocast \(dtype) on \(device)")
    }
    defer { vt_autocast_exit(region) }
    return try body()
}

/// `withAutocast(on:dtype:_:)` for a precision that may be plain: with `dtype` nil, `body` runs as
/// it is (fp32 runs).
public func withAutocast<R>(on device: Device, dtype: DType?, _ body: () throws -> R) throws -> R {
    guard let dtype else { return try body() }
    return try withAutocast(on: device, dtype: dtype, body)
}

/// Whether autocast is on for `device`'s type on this thread.
public func isAutocastEnabled(on device: Device) -> Bool { vt_autocast_enabled(device.code.type) }
