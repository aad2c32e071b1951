import Torch

/// BERT's input layer: word + position + token-type embeddings, summed, layer-normalised and
/// dropped out. Keys as Hugging Face's `BertEmbeddings` (`word_embeddings`, `position_embeddings`,
/// `token_type_embeddings`, `LayerNorm`).
public final class BertEmbeddings: Module {
    @Child(key: "word_embeddings") public var wordEmbeddings: Embedding
    @Child(key: "position_embeddings") public var positionEmbeddings: Embedding
    @Child(key: "token_type_embeddings") public var tokenTypeEmbeddings: Embedding
    @Child(key: "LayerNorm") public var layerNorm: LayerNorm
    public let dropout: Dropout
    public let configuration: BertConfiguration

    public init(_ configuration: BertConfiguration) throws {
        let c = configuration
        _wordEmbeddings.wrappedValue = try Embedding(count: c.vocabularySize, dimension: c.hiddenSize)
        _positionEmbeddings.wrappedValue = try Embedding(count: c.maxPositions, dimension: c.hiddenSize)
        _tokenTypeEmbeddings.wrappedValue = try Embedding(count: c.typeVocabularySize, dimension: c.hiddenSize)
        _layerNorm.wrappedValue = try LayerNorm([c.hiddenSize], eps: c.layerNormEps)
        dropout = Dropout(c.hiddenDropout)
        self.configuration = c
        super.init()
        // BERT's initialisation: N(0, 0.02) tables.
        try withNoGrad {
            for table in [wordEmbeddings.weight, positionEmbeddings.weight, tokenTypeEmbeddings.weight] {
                try table.copy_(Initialization.normal(table.shape, std: 0.02))
            }
        }
    }

    /// - Parameters:
    ///   - inputIDs: int64 [B, L].
    ///   - tokenTypeIDs: int64 [B, L]; zeros when nil.
    ///   - positionIDs: int64 [B, L] or [1, L]; when nil, 0..<L for BERT, or RoBERTa's numbering
    ///     from `padTokenID + 1` over non-padding tokens.
    public func callAsFunction(_ inputIDs: Tensor, tokenTypeIDs: Tensor? = nil, positionIDs: Tensor? = nil) throws -> Tensor {
        let positions = try positionIDs ?? defaultPositions(inputIDs)
        let types = try tokenTypeIDs ?? Tensor.zeros(inputIDs.shape, dtype: .int64, device: inputIDs.device)
        let sum = try wordEmbeddings(inputIDs) + positionEmbeddings(positions) + tokenTypeEmbeddings(types)
        return try dropout(layerNorm(sum))
    }

    func defaultPositions(_ inputIDs: Tensor) throws -> Tensor {
        let length = inputIDs.size(1)
        if configuration.usesRobertaPositions {
            let pad = configuration.padTokenID
            let notPadding = try (inputIDs .!= pad).to(.int64)
            return try notPadding.cumsum(dim: 1) * notPadding + pad
        }
        return try Tensor.arange(length, device: inputIDs.device).unsqueezed(dim: 0)
    }
}
