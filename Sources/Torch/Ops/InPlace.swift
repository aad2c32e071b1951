import CTorch

/// In-place updates, for optimizers and weight loading. They modify the tensor's storage,
/// which every handle to it shares; use them on leaf tensors under `withNoGrad`.
extension Tensor {
    public func add_(_ other: Tensor, alpha: Double = 1) throws {
        try check(vt_inplace_binary(VT_INPLACE_ADD, handle, other.handle, alpha), "add_ of \(shape) and \(other.shape)")
    }
    public func sub_(_ other: Tensor, alpha: Double = 1) throws {
        try check(vt_inplace_binary(VT_INPLACE_SUB, handle, other.handle, alpha), "sub_ of \(shape) and \(other.shape)")
    }
    public func mul_(_ other: Tensor) throws {
        try check(vt_inplace_binary(VT_INPLACE_MUL, handle, other.handle, 1), "mul_ of \(shape) and \(other.shape)")
    }
    public func div_(_ other: Tensor) throws {
        try check(vt_inplace_binary(VT_INPLACE_DIV, handle, other.handle, 1), "div_ of \(shape) and \(other.shape)")
    }
    /// Copies `source`'s elements into this tensor (broadcasting, converting dtype and device).
    public func copy_(_ source: Tensor) throws {
        try check(vt_inplace_binary(VT_INPLACE_COPY, handle, source.handle, 1), "copy_ of \(source.shape) into \(shape)")
    }
    public func add_(_ value: Double) throws { try check(vt_inplace_binary_scalar(VT_INPLACE_ADD, handle, value.scalar), "add_") }
    /// Integral scalar: keeps integer tensors integral (a counter's `add_(1)`).
    public func add_(_ value: Int) throws { try check(vt_inplace_binary_scalar(VT_INPLACE_ADD, handle, value.scalar), "add_") }
    public func mul_(_ value: Double) throws { try check(vt_inplace_binary_scalar(VT_INPLACE_MUL, handle, value.scalar), "mul_") }
    public func div_(_ value: Double) throws { try check(vt_inplace_binary_scalar(VT_INPLACE_DIV, handle, value.scalar), "div_") }

    /// self += value * a * b
    public func addcmul_(_ a: Tensor, _ b: Tensor, value: Double = 1) throws {
        try check(vt_addcmul_(handle, a.handle, b.handle, value), "addcmul_")
    }
    /// self += value * a / b
    public func addcdiv_(_ a: Tensor, _ b: Tensor, value: Double = 1) throws {
        try check(vt_addcdiv_(handle, a.handle, b.handle, value), "addcdiv_")
    }
    /// self += weight * (end - self)
    public func lerp_(_ end: Tensor, weight: Double) throws {
        try check(vt_lerp_(handle, end.handle, weight), "lerp_ of \(shape) towards \(end.shape)")
    }
    public func zero_() throws { try check(vt_zero_(handle), "zero_") }
    public func fill_(_ value: ScalarConvertible) throws { try check(vt_fill_(handle, value.scalar), "fill_") }
    public func clamp_(min: Double? = nil, max: Double? = nil) throws {
        try check(vt_clamp_(handle, min ?? 0, min != nil, max ?? 0, max != nil), "clamp_")
    }
    public func sqrt_() throws { try check(vt_sqrt_(handle), "sqrt_") }
}
