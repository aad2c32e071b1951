import Foundation

/// `config.json` of a Hugging Face `ChineseCLIPModel` directory (transformers 4.x), decoded with
/// transformers' defaults for the keys `save_pretrained` leaves out: `ChineseCLIPTextConfig`'s
/// (a BERT-base: vocabulary 30,522, 768 wide, 12 layers and heads, exact GELU, eps 1e-12) and
/// `ChineseCLIPVisionConfig`'s, which are `CLIPVisionConfig`'s (ViT-B/32, QuickGELU).
struct HuggingFaceChineseCLIPConfiguration: Decodable {
    /// `config.json`'s `text_config`.
    struct Text: Decodable {
        var vocabularySize = 30522, hiddenSize = 768, intermediateSize = 3072, layers = 12, heads = 12
        var maxPositions = 512, typeVocabularySize = 2, padTokenID = 0
        var hiddenActivation = "gelu", layerNormEps = 1e-12, positionEmbeddingType = "absolute"

        enum CodingKeys: String, CodingKey {
            case vocabularySize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
            case layers = "num_hidden_layers", heads = "num_attention_heads", maxPositions = "max_position_embeddings"
            case typeVocabularySize = "type_vocab_size", padTokenID = "pad_token_id", hiddenActivation = "hidden_act"
            case layerNormEps = "layer_norm_eps", positionEmbeddingType = "position_embedding_type"
        }

        init() {}

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            vocabularySize = try c.decodeIfPresent(Int.self, forKey: .vocabularySize) ?? vocabularySize
            hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? hiddenSize
            intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? intermediateSize
            layers = try c.decodeIfPresent(Int.self, forKey: .layers) ?? layers
            heads = try c.decodeIfPresent(Int.self, forKey: .heads) ?? heads
            maxPositions = try c.decodeIfPresent(Int.self, forKey: .maxPositions) ?? maxPositions
            typeVocabularySize = try c.decodeIfPresent(Int.self, forKey: .typeVocabularySize) ?? typeVocabularySize
            padTokenID = try c.decodeIfPresent(Int.self, forKey: .padTokenID) ?? padTokenID
            hiddenActivation = try c.decodeIfPresent(String.self, forKey: .hiddenActivation) ?? hiddenActivation
            layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? layerNormEps
            positionEmbeddingType = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType) ?? positionEmbeddingType
        }
    }

    var modelType: String
    var text: Text
    var vision: HuggingFaceCLIPConfiguration.Vision
    var projectionDim: Int

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", text = "text_config", vision = "vision_config", projectionDim = "projection_dim"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? ""
        text = try c.decodeIfPresent(Text.self, forKey: .text) ?? Text()
        vision = try c.decodeIfPresent(HuggingFaceCLIPConfiguration.Vision.self, forKey: .vision) ?? HuggingFaceCLIPConfiguration.Vision()
        projectionDim = try c.decodeIfPresent(Int.self, forKey: .projectionDim) ?? 512
    }
}
