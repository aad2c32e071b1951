/// A lookup table of vectors indexed by integers (`weight` [count, dimension]).
public final class Embedding: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    public let paddingIndex: Int?

    public init(count: Int, dimension: Int, paddingIndex: Int? = nil) throws {
        let table = try Tensor.randn([count, dimension])
        if let paddingIndex { try table[paddingIndex].zero_() }
        weight = table
        self.paddingIndex = paddingIndex
        super.init()
    }

    public func callAsFunction(_ indices: Tensor) throws -> Tensor {
        try Functional.embedding(indices, weight: weight, paddingIndex: paddingIndex)
    }
}
