/// Low-rank adapters on a `Linear` (LoRA, Hu et al. 2021, as Hugging Face PEFT makes them): the
/// layer's own weight stays as it is (frozen by the caller), and a product B·A of rank r learns
/// the change. A starts as PEFT's (Kaiming-uniform, the bound of `Linear`'s own init) and B at
/// zero, so a freshly adapted layer computes exactly what the base layer does.
extension Linear {
    /// Whether the layer carries an adapter.
    public var hasAdapter: Bool { loraA != nil }

    /// Adds an adapter of `rank` with scaling `alpha / rank`; an error when it has one already.
    /// The new tensors are made on the weight's device and in its dtype.
    public func attachAdapter(rank: Int, alpha: Double, dropout: Double = 0) throws {
        guard !hasAdapter else { throw TorchError("Linear.attachAdapter", "the layer already has a LoRA adapter") }
        guard rank > 0, alpha > 0, (0..<1).contains(dropout) else {
            throw TorchError("Linear.attachAdapter", "rank \(rank) and alpha \(alpha) must be positive and dropout \(dropout) in [0, 1)")
        }
        let (output, input) = (weight.size(0), weight.size(1))
        let dtype = weight.dtype, device = weight.device
        loraA = try Initialization.fanInUniform([rank, input], fanIn: input).to(dtype, device: device).detached()
        loraB = try Tensor.zeros([output, rank], dtype: dtype, device: device)
        loraScaling = try Tensor(scalar: alpha / Double(rank), dtype: dtype).to(device: device)
        loraDropout = dropout
    }

    /// Empty adapter slots of `rank` for a checkpoint's adapters to be loaded into (the values,
    /// scaling included, come from the checkpoint).
    public func attachAdapterForLoading(rank: Int) throws {
        try attachAdapter(rank: rank, alpha: Double(rank))
    }

    /// Folds the adapter into the weight, W ← W + s·B·A, and removes it; the layer then computes
    /// the same outputs (in eval mode) as a plain `Linear`. Nothing to do without an adapter.
    public func mergeAdapter() throws {
        guard let loraA, let loraB, let loraScaling else { return }
        try withNoGrad {
            let delta = try loraB.matmul(loraA) * loraScaling
            try weight.add_(delta.to(weight.dtype))
        }
        self.loraA = nil
        self.loraB = nil
        self.loraScaling = nil
        loraDropout = 0
    }
}

extension Functional {
    /// `x·Wᵀ + b + s·(dropout(x)·Aᵀ)·Bᵀ`, a linear layer with a LoRA adapter (A [rank, in],
    /// B [out, rank], s a scalar tensor).
    public static func loraLinear(_ x: Tensor, weight: Tensor, bias: Tensor?, loraA: Tensor, loraB: Tensor, scaling: Tensor,
                                  dropout: Double = 0, training: Bool = false) throws -> Tensor {
        let base = try linear(x, weight: weight, bias: bias)
        let low = try linear(linear(Functional.dropout(x, p: dropout, training: training), weight: loraA), weight: loraB)
        return try base + low * scaling
    }
}

extension Module {
    /// The state-dict key endings of LoRA adapters (`Linear.attachAdapter`).
    public static let adapterKeySuffixes = [".lora_a", ".lora_b", ".lora_scaling"]

    /// Whether `key` names an adapter tensor.
    public static func isAdapterKey(_ key: String) -> Bool { adapterKeySuffixes.contains { key.hasSuffix($0) } }

    /// The layers of the tree that carry adapters, under their paths.
    public func adaptedLayers() -> [(name: String, layer: Linear)] {
        namedModules().compactMap { name, module in (module as? Linear).flatMap { $0.hasAdapter ? (name, $0) : nil } }
    }

    /// Attaches an empty adapter (rank as the checkpoint's A) to every layer `tensors` holds an
    /// adapter for (`PATH.lora_a`), so that a checkpoint with adapters loads strictly into a model
    /// built without them. An error names a key whose path is not a `Linear` of this tree.
    @discardableResult
    public func attachAdapters(for tensors: [String: Tensor]) throws -> Int {
        let modules = Dictionary(namedModules().map { ($0.name, $0.module) }, uniquingKeysWith: { a, _ in a })
        var attached = 0
        for key in tensors.keys.sorted() where key.hasSuffix(".lora_a") {
            let path = String(key.dropLast(".lora_a".count))
            guard let layer = modules[path] as? Linear else {
                throw TorchError("attachAdapters", "\(key): \(path) is not a linear layer of this model")
            }
            guard let a = tensors[key], a.rank == 2 else { throw TorchError("attachAdapters", "\(key) is not a matrix") }
            if !layer.hasAdapter {
                try layer.attachAdapterForLoading(rank: a.size(0))
                attached += 1
            }
        }
        return attached
    }

    /// Folds every adapter of the tree into its layer's weight (`Linear.mergeAdapter`); returns
    /// how many there were.
    @discardableResult
    public func mergeAdapters() throws -> Int {
        let layers = adaptedLayers()
        for (_, layer) in layers { try layer.mergeAdapter() }
        return layers.count
    }
}
