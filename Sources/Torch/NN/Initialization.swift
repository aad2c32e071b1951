/// Parameter initialisers matching PyTorch's layer defaults.
public enum Initialization {
    /// Uniform in [-bound, bound).
    public static func uniform(_ shape: [Int], bound: Double) throws -> Tensor {
        try Tensor.rand(shape) * (2 * bound) - bound
    }

    /// PyTorch's default for Linear and Conv weights and biases: kaiming_uniform with
    /// a = √5, which reduces to U(-1/√fanIn, 1/√fanIn).
    public static func fanInUniform(_ shape: [Int], fanIn: Int) throws -> Tensor {
        try uniform(shape, bound: 1 / Double(max(1, fanIn)).squareRoot())
    }

    /// Normal with the given standard deviation (BERT and ViT use 0.02).
    public static func normal(_ shape: [Int], std: Double) throws -> Tensor {
        try Tensor.randn(shape) * std
    }
}
