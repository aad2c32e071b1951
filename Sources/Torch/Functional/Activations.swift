import CTorch

extension Tensor {
    public func relu() throws -> Tensor { try unary(.relu) }
    public func silu() throws -> Tensor { try unary(.silu) }

    /// GELU, exact (erf) by default or with the tanh approximation.
    public func gelu(approximate: GELUApproximation = .none) throws -> Tensor {
        try wrap(vt_gelu(handle, approximate == .tanh ? 1 : 0), "gelu of \(shape)")
    }

    public func softmax(dim: Int) throws -> Tensor {
        try wrap(vt_softmax(handle, Int64(dim)), "softmax along \(dim) of \(shape)")
    }

    public func logSoftmax(dim: Int) throws -> Tensor {
        try wrap(vt_log_softmax(handle, Int64(dim)), "logSoftmax along \(dim) of \(shape)")
    }
}

public enum GELUApproximation: String, Sendable, Codable {
    case none
    case tanh
}
