/// Zeroes activations with probability `p` in training mode; identity in eval mode.
public final class Dropout: Module, UnaryLayer {
    public let p: Double

    public init(_ p: Double = 0.1) {
        self.p = p
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try Functional.dropout(x, p: p, training: isTraining)
    }
}
