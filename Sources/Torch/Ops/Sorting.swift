import CTorch

extension Tensor {
    /// The `k` largest (or smallest) elements along `dim` and their indices.
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true, sorted: Bool = true) throws -> (values: Tensor, indices: Tensor) {
        var v: vt_tensor?, i: vt_tensor?
        try check(vt_topk(handle, Int64(k), Int64(dim), largest, sorted, &v, &i), "topk(\(k)) along \(dim) of \(shape)")
        return (Tensor(owning: v!), Tensor(owning: i!))
    }

    public func sorted(dim: Int = -1, descending: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        var v: vt_tensor?, i: vt_tensor?
        try check(vt_sort(handle, Int64(dim), descending, &v, &i), "sort along \(dim) of \(shape)")
        return (Tensor(owning: v!), Tensor(owning: i!))
    }

    public func argsort(dim: Int = -1, descending: Bool = false) throws -> Tensor {
        try wrap(vt_argsort(handle, Int64(dim), descending), "argsort along \(dim) of \(shape)")
    }

    /// Draws `samples` indices per row with probability proportional to the row's weights.
    public func multinomial(samples: Int, replacement: Bool = false) throws -> Tensor {
        try wrap(vt_multinomial(handle, Int64(samples), replacement), "multinomial(\(samples)) of \(shape)")
    }
}
