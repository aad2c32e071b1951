import CTorch

@inline(__always)
func withDims<R>(_ dims: [Int], _ body: (UnsafePointer<Int64>?, Int) throws -> R) rethrows -> R {
    try withShape(dims, body)
}

extension Tensor {
    /// Sum over `dims` (all dimensions when empty).
    public func sum(dims: [Int] = [], keepDims: Bool = false) throws -> Tensor {
        try withDims(dims) { try wrap(vt_sum(handle, $0, $1, keepDims), "sum over \(dims) of \(shape)") }
    }
    public func sum(dim: Int, keepDims: Bool = false) throws -> Tensor { try sum(dims: [dim], keepDims: keepDims) }

    public func mean(dims: [Int] = [], keepDims: Bool = false) throws -> Tensor {
        try withDims(dims) { try wrap(vt_mean(handle, $0, $1, keepDims), "mean over \(dims) of \(shape)") }
    }
    public func mean(dim: Int, keepDims: Bool = false) throws -> Tensor { try mean(dims: [dim], keepDims: keepDims) }

    public func variance(dims: [Int] = [], unbiased: Bool = true, keepDims: Bool = false) throws -> Tensor {
        try withDims(dims) { try wrap(vt_var(handle, $0, $1, unbiased, keepDims), "variance of \(shape)") }
    }

    public func prod(dim: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        try wrap(vt_prod(handle, Int64(dim ?? 0), dim != nil, keepDims), "prod of \(shape)")
    }

    /// Largest element (over all dimensions when `dims` is empty).
    public func max(dims: [Int] = [], keepDims: Bool = false) throws -> Tensor {
        try withDims(dims) { try wrap(vt_amax(handle, $0, $1, keepDims), "max of \(shape)") }
    }
    public func min(dims: [Int] = [], keepDims: Bool = false) throws -> Tensor {
        try withDims(dims) { try wrap(vt_amin(handle, $0, $1, keepDims), "min of \(shape)") }
    }

    /// Largest values along `dim` and their indices.
    public func max(dim: Int, keepDims: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        var v: vt_tensor?, i: vt_tensor?
        try check(vt_max_dim(handle, Int64(dim), keepDims, &v, &i), "max along \(dim) of \(shape)")
        return (Tensor(owning: v!), Tensor(owning: i!))
    }
    public func min(dim: Int, keepDims: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        var v: vt_tensor?, i: vt_tensor?
        try check(vt_min_dim(handle, Int64(dim), keepDims, &v, &i), "min along \(dim) of \(shape)")
        return (Tensor(owning: v!), Tensor(owning: i!))
    }

    /// Index of the largest element along `dim` (of the flattened tensor when nil).
    public func argmax(dim: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        try wrap(vt_argmax(handle, Int64(dim ?? 0), dim != nil, keepDims), "argmax of \(shape)")
    }
    public func argmin(dim: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        try wrap(vt_argmin(handle, Int64(dim ?? 0), dim != nil, keepDims), "argmin of \(shape)")
    }

    /// `log(sum(exp(x)))` computed stably.
    public func logsumexp(dims: [Int] = [], keepDims: Bool = false) throws -> Tensor {
        try withDims(dims) { try wrap(vt_logsumexp(handle, $0, $1, keepDims), "logsumexp of \(shape)") }
    }
    public func logsumexp(dim: Int, keepDims: Bool = false) throws -> Tensor { try logsumexp(dims: [dim], keepDims: keepDims) }

    /// The p-norm over `dims` (all elements when empty).
    public func norm(_ p: Double = 2, dims: [Int] = [], keepDims: Bool = false) throws -> Tensor {
        try withDims(dims) { try wrap(vt_norm(handle, p, $0, $1, keepDims), "norm of \(shape)") }
    }

    public func cumsum(dim: Int) throws -> Tensor { try wrap(vt_cumsum(handle, Int64(dim)), "cumsum") }
}
