/// Layers applied in order, keyed "0", "1", … as in `torch.nn.Sequential`.
public final class Sequential: Module, UnaryLayer {
    public let layers: [Module & UnaryLayer]

    public init(_ layers: [Module & UnaryLayer]) {
        self.layers = layers
        super.init()
    }

    public override func children() -> [(name: String, module: Module)] {
        layers.enumerated().map { (name: "\($0.offset)", module: $0.element) }
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try layers.reduce(x) { try $1($0) }
    }
}

/// An activation as a layer, for use in `Sequential`.
public final class Activation: Module, UnaryLayer {
    public enum Kind: String, Sendable, Codable { case relu, gelu, geluTanh = "gelu_tanh", silu, tanh, sigmoid }
    public let kind: Kind

    public init(_ kind: Kind) {
        self.kind = kind
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        switch kind {
        case .relu: return try x.relu()
        case .gelu: return try x.gelu()
        case .geluTanh: return try x.gelu(approximate: .tanh)
        case .silu: return try x.silu()
        case .tanh: return try x.tanh()
        case .sigmoid: return try x.sigmoid()
        }
    }
}
