import CTorch

/// Takes over a NULL-terminated handle list returned by CTorch.
func takeList(_ list: UnsafeMutablePointer<vt_tensor?>?, _ n: Int) -> [Tensor] {
    guard let list else { return [] }
    defer { vt_free_list(list) }
    return (0..<n).map { Tensor(owning: list[$0]!) }
}

@inline(__always)
func withHandles<R>(_ tensors: [Tensor], _ body: (UnsafePointer<vt_tensor?>?, Int) throws -> R) rethrows -> R {
    let handles: [vt_tensor?] = tensors.map { $0.handle }
    return try withExtendedLifetime(tensors) {
        try handles.withUnsafeBufferPointer { try body($0.baseAddress, handles.count) }
    }
}

extension Tensor {
    /// The same elements in a new shape; one dimension may be -1.
    public func reshaped(_ shape: [Int]) throws -> Tensor {
        try withShape(shape) { try wrap(vt_reshape(handle, $0, $1), "reshape \(self.shape) to \(shape)") }
    }

    public func permuted(_ dims: [Int]) throws -> Tensor {
        try withShape(dims) { try wrap(vt_permute(handle, $0, $1), "permute \(shape) by \(dims)") }
    }

    public func transposed(_ dim0: Int, _ dim1: Int) throws -> Tensor {
        try wrap(vt_transpose(handle, Int64(dim0), Int64(dim1)), "transpose \(dim0),\(dim1) of \(shape)")
    }

    /// Removes `dim` if it has size 1, or every size-1 dimension when nil.
    public func squeezed(dim: Int? = nil) throws -> Tensor {
        try wrap(vt_squeeze(handle, Int64(dim ?? 0), dim != nil), "squeeze of \(shape)")
    }

    public func unsqueezed(dim: Int) throws -> Tensor {
        try wrap(vt_unsqueeze(handle, Int64(dim)), "unsqueeze \(dim) of \(shape)")
    }

    /// A broadcast view; -1 keeps a dimension.
    public func expanded(_ shape: [Int]) throws -> Tensor {
        try withShape(shape) { try wrap(vt_expand(handle, $0, $1), "expand \(self.shape) to \(shape)") }
    }

    public func repeated(_ repeats: [Int]) throws -> Tensor {
        try withShape(repeats) { try wrap(vt_repeat(handle, $0, $1), "repeat \(shape) by \(repeats)") }
    }

    public func flattened(startDim: Int = 0, endDim: Int = -1) throws -> Tensor {
        try wrap(vt_flatten(handle, Int64(startDim), Int64(endDim)), "flatten \(shape)")
    }

    public func flipped(dims: [Int]) throws -> Tensor {
        try withShape(dims) { try wrap(vt_flip(handle, $0, $1), "flip \(shape)") }
    }

    /// Pieces of `size` along `dim` (the last may be smaller).
    public func split(size: Int, dim: Int = 0) throws -> [Tensor] {
        try split(sizes: [size], dim: dim)
    }

    /// Pieces of the given sizes along `dim` (a single size means equal pieces of that size).
    public func split(sizes: [Int], dim: Int = 0) throws -> [Tensor] {
        var list: UnsafeMutablePointer<vt_tensor?>?
        var n = 0
        try withShape(sizes) { try check(vt_split(handle, $0, $1, Int64(dim), &list, &n), "split \(shape) by \(sizes) along \(dim)") }
        return takeList(list, n)
    }

    public func chunked(_ chunks: Int, dim: Int = 0) throws -> [Tensor] {
        var list: UnsafeMutablePointer<vt_tensor?>?
        var n = 0
        try check(vt_chunk(handle, Int64(chunks), Int64(dim), &list, &n), "chunk \(shape) into \(chunks)")
        return takeList(list, n)
    }

    /// `length` elements from `start` along `dim` (a view).
    public func narrowed(dim: Int, start: Int, length: Int) throws -> Tensor {
        try wrap(vt_narrow(handle, Int64(dim), Int64(start), Int64(length)), "narrow \(shape) dim \(dim) at \(start) length \(length)")
    }

    /// Elements `range` along `dim`, every `step`-th (a view).
    public func slice(dim: Int, _ range: Range<Int>, step: Int = 1) throws -> Tensor {
        try wrap(vt_slice(handle, Int64(dim), Int64(range.lowerBound), Int64(range.upperBound), Int64(step)),
                 "slice \(range) of dim \(dim) of \(shape)")
    }

    /// Drops dimension `dim`, taking element `index` of it (a view).
    public func select(dim: Int, index: Int) throws -> Tensor {
        try wrap(vt_select(handle, Int64(dim), Int64(index)), "select \(index) of dim \(dim) of \(shape)")
    }

    /// Element `index` along the first dimension.
    public subscript(_ index: Int) -> Tensor {
        get throws { try select(dim: 0, index: index) }
    }

    /// Rows `range` along the first dimension.
    public subscript(_ range: Range<Int>) -> Tensor {
        get throws { try slice(dim: 0, range) }
    }

    /// Boolean-mask selection (flattened result) or integer indexing along the first dimension.
    public subscript(_ index: Tensor) -> Tensor {
        get throws { try wrap(vt_index(handle, index.handle), "index \(shape) by \(index.shape) \(index.dtype)") }
    }

    /// A copy with `values` written (or added, when `accumulate`) at `index` along the first dimension.
    public func indexPut(_ index: Tensor, _ values: Tensor, accumulate: Bool = false) throws -> Tensor {
        try wrap(vt_index_put(handle, index.handle, values.handle, accumulate), "indexPut")
    }

    public func indexSelect(dim: Int, _ index: Tensor) throws -> Tensor {
        try wrap(vt_index_select(handle, Int64(dim), index.handle), "indexSelect dim \(dim) of \(shape) by \(index.shape)")
    }

    public func gather(dim: Int, _ index: Tensor) throws -> Tensor {
        try wrap(vt_gather(handle, Int64(dim), index.handle), "gather dim \(dim) of \(shape) by \(index.shape)")
    }

    /// A copy with `source` written at `index` along `dim` (added instead when `add`).
    public func scatter(dim: Int, _ index: Tensor, _ source: Tensor, add: Bool = false) throws -> Tensor {
        try wrap(vt_scatter(handle, Int64(dim), index.handle, source.handle, add ? 1 : 0), "scatter dim \(dim) into \(shape)")
    }

    public func maskedSelect(_ mask: Tensor) throws -> Tensor {
        try wrap(vt_masked_select(handle, mask.handle), "maskedSelect of \(shape) by \(mask.shape)")
    }

    public func lowerTriangle(diagonal: Int = 0) throws -> Tensor { try wrap(vt_tril(handle, Int64(diagonal)), "tril") }
    public func upperTriangle(diagonal: Int = 0) throws -> Tensor { try wrap(vt_triu(handle, Int64(diagonal)), "triu") }
    public func nonzero() throws -> Tensor { try wrap(vt_nonzero(handle), "nonzero") }
    public func oneHot(classes: Int) throws -> Tensor { try wrap(vt_one_hot(handle, Int64(classes)), "oneHot") }

    /// Constant padding; `pads` lists (before, after) pairs starting from the last dimension.
    public func padded(_ pads: [Int], value: Double = 0) throws -> Tensor {
        try withShape(pads) { try wrap(vt_pad(handle, $0, $1, value), "pad \(shape) by \(pads)") }
    }
}

/// Joins tensors along an existing dimension.
public func cat(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
    try withHandles(tensors) { try wrap(vt_cat($0, $1, Int64(dim)), "cat of \(tensors.map(\.shape)) along \(dim)") }
}

/// Joins tensors along a new dimension.
public func stack(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
    try withHandles(tensors) { try wrap(vt_stack($0, $1, Int64(dim)), "stack of \(tensors.map(\.shape)) along \(dim)") }
}
