import CTorch

/// The binary operations of CTorch's vt_binary family, by name (for error messages); their
/// codes are ctorch.h's `vt_binary_op`, declared there once.
enum BinaryOp {
    case add, sub, mul, div, pow, remainder, maximum, minimum
    case eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, atan2, floorDivide

    var code: vt_binary_op {
        switch self {
        case .add: return VT_BINARY_ADD
        case .sub: return VT_BINARY_SUB
        case .mul: return VT_BINARY_MUL
        case .div: return VT_BINARY_DIV
        case .pow: return VT_BINARY_POW
        case .remainder: return VT_BINARY_REMAINDER
        case .maximum: return VT_BINARY_MAXIMUM
        case .minimum: return VT_BINARY_MINIMUM
        case .eq: return VT_BINARY_EQ
        case .ne: return VT_BINARY_NE
        case .lt: return VT_BINARY_LT
        case .le: return VT_BINARY_LE
        case .gt: return VT_BINARY_GT
        case .ge: return VT_BINARY_GE
        case .logicalAnd: return VT_BINARY_LOGICAL_AND
        case .logicalOr: return VT_BINARY_LOGICAL_OR
        case .atan2: return VT_BINARY_ATAN2
        case .floorDivide: return VT_BINARY_FLOOR_DIVIDE
        }
    }
}

extension Tensor {
    func binary(_ op: BinaryOp, _ other: Tensor) throws -> Tensor {
        try wrap(vt_binary(op.code, handle, other.handle), "\(op) of \(shape) and \(other.shape)")
    }

    func binary(_ op: BinaryOp, _ scalar: ScalarConvertible) throws -> Tensor {
        try wrap(vt_binary_scalar(op.code, handle, scalar.scalar), "\(op) of \(shape) and a scalar")
    }

    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.add, b) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.sub, b) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.mul, b) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.div, b) }

    public static func + (a: Tensor, b: Double) throws -> Tensor { try a.binary(.add, b) }
    public static func - (a: Tensor, b: Double) throws -> Tensor { try a.binary(.sub, b) }
    public static func * (a: Tensor, b: Double) throws -> Tensor { try a.binary(.mul, b) }
    public static func / (a: Tensor, b: Double) throws -> Tensor { try a.binary(.div, b) }
    public static func + (a: Tensor, b: Int) throws -> Tensor { try a.binary(.add, b) }
    public static func - (a: Tensor, b: Int) throws -> Tensor { try a.binary(.sub, b) }
    public static func * (a: Tensor, b: Int) throws -> Tensor { try a.binary(.mul, b) }
    public static func / (a: Tensor, b: Int) throws -> Tensor { try a.binary(.div, b) }

    public static func + (a: Double, b: Tensor) throws -> Tensor { try b.binary(.add, a) }
    public static func * (a: Double, b: Tensor) throws -> Tensor { try b.binary(.mul, a) }
    public static func - (a: Double, b: Tensor) throws -> Tensor {
        try wrap(vt_scalar_binary(VT_BINARY_SUB, a.scalar, b.handle), "scalar - tensor \(b.shape)")
    }
    public static func / (a: Double, b: Tensor) throws -> Tensor {
        try wrap(vt_scalar_binary(VT_BINARY_DIV, a.scalar, b.handle), "scalar / tensor \(b.shape)")
    }

    public static prefix func - (a: Tensor) throws -> Tensor { try a.unary(.neg) }

    public func pow(_ exponent: Double) throws -> Tensor { try binary(.pow, exponent) }
    public func pow(_ exponent: Tensor) throws -> Tensor { try binary(.pow, exponent) }
    public func remainder(_ divisor: Double) throws -> Tensor { try binary(.remainder, divisor) }
    public func floorDivide(_ other: Tensor) throws -> Tensor { try binary(.floorDivide, other) }
    public func maximum(_ other: Tensor) throws -> Tensor { try binary(.maximum, other) }
    public func minimum(_ other: Tensor) throws -> Tensor { try binary(.minimum, other) }

    /// Matrix product with NumPy broadcasting rules (`torch.matmul`).
    public func matmul(_ other: Tensor) throws -> Tensor {
        let y = try wrap(vt_matmul(handle, other.handle), "matmul of \(shape) and \(other.shape)")
        if FlopCounter.isActive { FlopCounter.recordProduct(outputElements: y.count, inner: size(-1)) }
        return y
    }

    /// Batched matrix product of [B, n, m] and [B, m, p].
    public func bmm(_ other: Tensor) throws -> Tensor {
        let y = try wrap(vt_bmm(handle, other.handle), "bmm of \(shape) and \(other.shape)")
        if FlopCounter.isActive { FlopCounter.recordProduct(outputElements: y.count, inner: size(-1)) }
        return y
    }

    /// Linear interpolation `self + weight * (end - self)`.
    public func lerp(_ end: Tensor, weight: Double) throws -> Tensor {
        try wrap(vt_lerp(handle, end.handle, weight), "lerp")
    }
}
