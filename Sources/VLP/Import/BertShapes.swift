import Foundation

/// The sizes of a BERT text tower in Hugging Face's layout, read from its tensors under a prefix:
/// vocabulary and width from the word embeddings, positions, token types, depth from the block
/// indices, the intermediate size from the first block. Chinese-CLIP's `bert.*` and R2D2's
/// `text_encoder.*` are such towers (RoBERTa-wwm-ext, RBT3).
struct BertShapes {
    var vocabularySize = 0, hidden = 0, maxPositions = 0, typeVocabularySize = 0, layers = 0, intermediateSize = 0

    /// The sizes of the BERT whose keys start with `prefix` (e.g. "bert.").
    static func read(_ ledger: SourceTensors, prefix: String) throws -> BertShapes {
        var s = BertShapes()
        let words = try ledger.shape(of: prefix + "embeddings.word_embeddings.weight", rank: 2)
        (s.vocabularySize, s.hidden) = (words[0], words[1])
        s.maxPositions = try ledger.shape(of: prefix + "embeddings.position_embeddings.weight", rank: 2)[0]
        s.typeVocabularySize = try ledger.shape(of: prefix + "embeddings.token_type_embeddings.weight", rank: 2)[0]
        s.layers = try ledger.blockCount(prefix: prefix + "encoder.layer.")
        s.intermediateSize = s.layers > 0 ? try ledger.shape(of: prefix + "encoder.layer.0.intermediate.dense.weight", rank: 2)[0] : 4 * s.hidden
        return s
    }

    /// The tower with `heads` heads and the fixed choices of the BERTs these families release:
    /// post-LN, erf GELU, eps 1e-12, dropouts 0.1, [PAD] = 0.
    func configuration(heads: Int) -> BertConfiguration {
        BertConfiguration(modelType: "bert", vocabularySize: vocabularySize, hiddenSize: hidden, layers: layers, heads: heads,
                          intermediateSize: intermediateSize, hiddenActivation: "gelu", maxPositions: maxPositions,
                          typeVocabularySize: typeVocabularySize, layerNormEps: 1e-12, hiddenDropout: 0.1, attentionDropout: 0.1, padTokenID: 0)
    }
}
