/// `y = x·Wᵀ + b`, with PyTorch's parameter names (`weight` [out, in], `bias` [out]).
///
/// With a LoRA adapter (`attachAdapter`, Hu et al. 2021) it computes
/// `y = x·Wᵀ + b + s·(dropout(x)·Aᵀ)·Bᵀ` with `lora_a` A [rank, in], `lora_b` B [out, rank] and the
/// `lora_scaling` buffer s = alpha / rank, all three saved beside `weight` (`q_proj.lora_a`, …), so a
/// checkpoint states its adapters without a side file. See `LoRA.swift`.
public final class Linear: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor?
    @Parameter(key: "lora_a") public internal(set) var loraA: Tensor? = nil
    @Parameter(key: "lora_b") public internal(set) var loraB: Tensor? = nil
    @Buffer(key: "lora_scaling") public internal(set) var loraScaling: Tensor? = nil
    /// Dropout on the adapter's input, in training mode only.
    public internal(set) var loraDropout: Double = 0

    public init(_ inputSize: Int, _ outputSize: Int, bias: Bool = true) throws {
        weight = try Initialization.fanInUniform([outputSize, inputSize], fanIn: inputSize)
        self.bias = bias ? try Initialization.fanInUniform([outputSize], fanIn: inputSize) : nil
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard let loraA, let loraB, let loraScaling else { return try Functional.linear(x, weight: weight, bias: bias) }
        return try Functional.loraLinear(x, weight: weight, bias: bias, loraA: loraA, loraB: loraB, scaling: loraScaling,
                                         dropout: loraDropout, training: isTraining)
    }
}
