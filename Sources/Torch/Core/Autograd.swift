import CTorch

extension Tensor {
    /// Whether autograd records operations on this tensor.
    public var requiresGrad: Bool { vt_requires_grad(handle) }

    /// Whether this tensor was created by the user rather than by a recorded operation.
    public var isLeaf: Bool { vt_is_leaf(handle) }

    /// Marks this tensor as requiring a gradient (it must be a floating-point leaf); returns self.
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) throws -> Tensor {
        try check(vt_set_requires_grad(handle, flag), "requiringGrad(\(flag)) of \(dtype) tensor")
        return self
    }

    /// The gradient accumulated by `backward`, if any.
    public var grad: Tensor? {
        let h = vt_grad(handle)
        if h == nil { vt_clear_error() }
        return h.map(Tensor.init(owning:))
    }

    /// Replaces (or clears, with nil) the accumulated gradient.
    public func setGrad(_ gradient: Tensor?) throws {
        try check(vt_set_grad(handle, gradient?.handle), "setGrad of \(shape)")
    }

    /// Forgets the accumulated gradient.
    public func zeroGrad() {
        _ = vt_zero_grad(handle)
    }

    /// Back-propagates from this tensor; `gradient` is required unless it has one element.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false, createGraph: Bool = false) throws {
        try check(vt_backward(handle, gradient?.handle, retainGraph, createGraph), "backward from \(shape)")
    }

    /// The same data, cut off from the autograd graph.
    public func detached() throws -> Tensor { try wrap(vt_detach(handle), "detach") }
}

/// Gradients of `outputs` with respect to `inputs` without touching `.grad` (torch.autograd.grad);
/// nil for an input that the outputs do not depend on.
public func gradients(of outputs: [Tensor], withRespectTo inputs: [Tensor], gradOutputs: [Tensor]? = nil,
                      retainGraph: Bool = false, createGraph: Bool = false) throws -> [Tensor?] {
    var result = [vt_tensor?](repeating: nil, count: inputs.count)
    try withHandles(outputs) { outs, nOut in
        try withHandles(inputs) { ins, nIn in
            if let gradOutputs {
                try withHandles(gradOutputs) { grads, _ in
                    try check(vt_autograd_grad(outs, nOut, grads, ins, nIn, retainGraph, createGraph, &result), "gradients")
                }
            } else {
                try check(vt_autograd_grad(outs, nOut, nil, ins, nIn, retainGraph, createGraph, &result), "gradients")
            }
        }
    }
    return result.map { $0.map(Tensor.init(owning:)) }
}

/// Whether operations are being recorded for autograd on this thread.
public var isGradEnabled: Bool { vt_grad_enabled() }

/// Runs `body` without recording operations for autograd (torch.no_grad()).
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    let previous = vt_grad_enabled()
    vt_set_grad_enabled(false)
    defer { vt_set_grad_enabled(previous) }
    return try body()
}

/// Runs `body` with gradient recording forced on (torch.enable_grad()).
public func withGrad<R>(_ body: () throws -> R) rethrows -> R {
    let previous = vt_grad_enabled()
    vt_set_grad_enabled(true)
    defer { vt_set_grad_enabled(previous) }
    return try body()
}

/// Runs `body` in inference mode (torch.inference_mode()): no recording and no version
/// counting; tensors created inside cannot be used in autograd later.
public func withInferenceMode<R>(_ body: () throws -> R) rethrows -> R {
    let guardHandle = vt_inference_mode_enter()
    defer { if let guardHandle { vt_inference_mode_exit(guardHandle) } }
    return try body()
}
