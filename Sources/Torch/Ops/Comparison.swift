import CTorch

/// Element-wise comparisons produce boolean tensors, usable as masks.
extension Tensor {
    public static func .== (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.eq, b) }
    public static func .!= (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.ne, b) }
    public static func .< (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.lt, b) }
    public static func .<= (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.le, b) }
    public static func .> (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.gt, b) }
    public static func .>= (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.ge, b) }

    public static func .== (a: Tensor, b: Double) throws -> Tensor { try a.binary(.eq, b) }
    public static func .!= (a: Tensor, b: Double) throws -> Tensor { try a.binary(.ne, b) }
    public static func .< (a: Tensor, b: Double) throws -> Tensor { try a.binary(.lt, b) }
    public static func .<= (a: Tensor, b: Double) throws -> Tensor { try a.binary(.le, b) }
    public static func .> (a: Tensor, b: Double) throws -> Tensor { try a.binary(.gt, b) }
    public static func .>= (a: Tensor, b: Double) throws -> Tensor { try a.binary(.ge, b) }

    public static func .== (a: Tensor, b: Int) throws -> Tensor { try a.binary(.eq, b) }
    public static func .!= (a: Tensor, b: Int) throws -> Tensor { try a.binary(.ne, b) }

    public func logicalAnd(_ other: Tensor) throws -> Tensor { try binary(.logicalAnd, other) }
    public func logicalOr(_ other: Tensor) throws -> Tensor { try binary(.logicalOr, other) }
    public func logicalNot() throws -> Tensor { try unary(.logicalNot) }
    public func isNaN() throws -> Tensor { try unary(.isnan) }
    public func isFinite() throws -> Tensor { try unary(.isfinite) }
    public func isInfinite() throws -> Tensor { try unary(.isinf) }

    /// Whether any / all elements are true (nonzero), as a Swift Bool.
    public func any() throws -> Bool { try wrap(vt_any(handle), "any").itemInt() != 0 }
    public func all() throws -> Bool { try wrap(vt_all(handle), "all").itemInt() != 0 }
}

/// `where(condition, a, b)`: elements of `a` where `condition` holds, else of `b`.
public func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
    try wrap(vt_where(condition.handle, a.handle, b.handle), "where(\(condition.shape), \(a.shape), \(b.shape))")
}

