import CTorch

/// The unary operations of CTorch's vt_unary, by name (for error messages); their codes are
/// ctorch.h's `vt_unary_op`, declared there once.
enum UnaryOp {
    case neg, exp, log, sqrt, rsqrt, abs, tanh, sigmoid, relu, silu, sin, cos, floor, ceil, round
    case sign, logicalNot, isnan, isfinite, square, log1p, expm1, reciprocal, erf, isinf

    var code: vt_unary_op {
        switch self {
        case .neg: return VT_UNARY_NEG
        case .exp: return VT_UNARY_EXP
        case .log: return VT_UNARY_LOG
        case .sqrt: return VT_UNARY_SQRT
        case .rsqrt: return VT_UNARY_RSQRT
        case .abs: return VT_UNARY_ABS
        case .tanh: return VT_UNARY_TANH
        case .sigmoid: return VT_UNARY_SIGMOID
        case .relu: return VT_UNARY_RELU
        case .silu: return VT_UNARY_SILU
        case .sin: return VT_UNARY_SIN
        case .cos: return VT_UNARY_COS
        case .floor: return VT_UNARY_FLOOR
        case .ceil: return VT_UNARY_CEIL
        case .round: return VT_UNARY_ROUND
        case .sign: return VT_UNARY_SIGN
        case .logicalNot: return VT_UNARY_LOGICAL_NOT
        case .isnan: return VT_UNARY_ISNAN
        case .isfinite: return VT_UNARY_ISFINITE
        case .square: return VT_UNARY_SQUARE
        case .log1p: return VT_UNARY_LOG1P
        case .expm1: return VT_UNARY_EXPM1
        case .reciprocal: return VT_UNARY_RECIPROCAL
        case .erf: return VT_UNARY_ERF
        case .isinf: return VT_UNARY_ISINF
        }
    }
}

extension Tensor {
    func unary(_ op: UnaryOp) throws -> Tensor {
        try wrap(vt_unary(op.code, handle), "\(op) of \(shape)")
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
