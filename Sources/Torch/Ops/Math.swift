import CTorch

/// Unary operation codes understood by CTorch's vt_unary.
enum UnaryOp: Int32 {
    case neg = 0, exp, log, sqrt, rsqrt, abs, tanh, sigmoid, relu, silu, sin, cos, floor, ceil, round
    case sign, logicalNot, isnan, isfinite, square, log1p, expm1, reciprocal, erf, isinf
}

extension Tensor {
    func unary(_ op: UnaryOp) throws -> Tensor {
        try wrap(vt_unary(op.rawValue, handle), "\(op) of \(shape)")
    }

    public func exp() throws -> Tensor { try unary(.exp) }
    public func log() throws -> Tensor { try unary(.log) }
    public func log1p() throws -> Tensor { try unary(.log1p) }
    public func expm1() throws -> Tensor { try unary(.expm1) }
    public func sqrt() throws -> Tensor { try unary(.sqrt) }
    public func rsqrt() throws -> Tensor { try unary(.rsqrt) }
    public func abs() throws -> Tensor { try unary(.abs) }
    public func square() throws -> Tensor { try unary(.square) }
    public func reciprocal() throws -> Tensor { try unary(.reciprocal) }
    public func tanh() throws -> Tensor { try unary(.tanh) }
    public func sigmoid() throws -> Tensor { try unary(.sigmoid) }
    public func sin() throws -> Tensor { try unary(.sin) }
    public func cos() throws -> Tensor { try unary(.cos) }
    public func erf() throws -> Tensor { try unary(.erf) }
    public func floor() throws -> Tensor { try unary(.floor) }
    public func ceil() throws -> Tensor { try unary(.ceil) }
    public func round() throws -> Tensor { try unary(.round) }
    public func sign() throws -> Tensor { try unary(.sign) }

    /// Limits elements to `[min, max]`; either bound may be omitted.
    public func clamp(min: Double? = nil, max: Double? = nil) throws -> Tensor {
        try wrap(vt_clamp(handle, min ?? 0, min != nil, max ?? 0, max != nil), "clamp")
    }

    /// Elements where `mask` is true replaced by `value`.
    public func maskedFill(_ mask: Tensor, _ value: ScalarConvertible) throws -> Tensor {
        try wrap(vt_masked_fill(handle, mask.handle, value.scalar), "maskedFill of \(shape) with mask \(mask.shape)")
    }
}
