import Foundation
import Torch

/// The shape of a BERT / RoBERTa text encoder, decoded directly from a Hugging Face
/// `config.json` (the snake_case keys below); unknown keys are ignored, missing ones take
/// BERT-base's defaults.
public struct BertConfiguration: Codable, Equatable, Sendable {
    /// "bert" or "roberta" (RoBERTa numbers positions from `padTokenID + 1` and skips padding).
    public var modelType: String
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var intermediateSize: Int
    /// "gelu" (exact), "gelu_new"/"gelu_pytorch_tanh" (tanh approximation), "relu", "silu".
    public var hiddenActivation: String
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEps: Double
    public var hiddenDropout: Double
    public var attentionDropout: Double
    public var padTokenID: Int
    /// Only "absolute" position embeddings are implemented.
    public var positionEmbeddingType: String

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case vocabularySize = "vocab_size"
        case hiddenSize = "hidden_size"
        case layers = "num_hidden_layers"
        case heads = "num_attention_heads"
        case intermediateSize = "intermediate_size"
        case hiddenActivation = "hidden_act"
        case maxPositions = "max_position_embeddings"
        case typeVocabularySize = "type_vocab_size"
        case layerNormEps = "layer_norm_eps"
        case hiddenDropout = "hidden_dropout_prob"
        case attentionDropout = "attention_probs_dropout_prob"
        case padTokenID = "pad_token_id"
        case positionEmbeddingType = "position_embedding_type"
    }

    public init(modelType: String = "bert", vocabularySize: Int = 30522, hiddenSize: Int = 768, layers: Int = 12,
                heads: Int = 12, intermediateSize: Int = 3072, hiddenActivation: String = "gelu", maxPositions: Int = 512,
                typeVocabularySize: Int = 2, layerNormEps: Double = 1e-12, hiddenDropout: Double = 0.1,
                attentionDropout: Double = 0.1, padTokenID: Int = 0, positionEmbeddingType: String = "absolute") {
        self.modelType = modelType
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.heads = heads
        self.intermediateSize = intermediateSize
        self.hiddenActivation = hiddenActivation
        self.maxPositions = maxPositions
        self.typeVocabularySize = typeVocabularySize
        self.layerNormEps = layerNormEps
        self.hiddenDropout = hiddenDropout
        self.attentionDropout = attentionDropout
        self.padTokenID = padTokenID
        self.positionEmbeddingType = positionEmbeddingType
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = BertConfiguration()
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? d.modelType
        vocabularySize = try c.decodeIfPresent(Int.self, forKey: .vocabularySize) ?? d.vocabularySize
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
        layers = try c.decodeIfPresent(Int.self, forKey: .layers) ?? d.layers
        heads = try c.decodeIfPresent(Int.self, forKey: .heads) ?? d.heads
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? d.intermediateSize
        hiddenActivation = try c.decodeIfPresent(String.self, forKey: .hiddenActivation) ?? d.hiddenActivation
        maxPositions = try c.decodeIfPresent(Int.self, forKey: .maxPositions) ?? d.maxPositions
        typeVocabularySize = try c.decodeIfPresent(Int.self, forKey: .typeVocabularySize) ?? d.typeVocabularySize
        layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? d.layerNormEps
        hiddenDropout = try c.decodeIfPresent(Double.self, forKey: .hiddenDropout) ?? d.hiddenDropout
        attentionDropout = try c.decodeIfPresent(Double.self, forKey: .attentionDropout) ?? d.attentionDropout
        padTokenID = try c.decodeIfPresent(Int.self, forKey: .padTokenID) ?? d.padTokenID
        positionEmbeddingType = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType) ?? d.positionEmbeddingType
    }

    /// Reads a Hugging Face `config.json`.
    public static func load(contentsOf url: URL) throws -> BertConfiguration {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelError.unreadableFile(path: url.path, reason: "\(error.localizedDescription)")
        }
        do { return try JSONDecoder().decode(BertConfiguration.self, from: data) } catch {
            throw ModelError.invalidConfiguration(source: url.path, reason: "\(error)")
        }
    }

    /// Whether positions count from `padTokenID + 1` over non-padding tokens (RoBERTa's scheme).
    public var usesRobertaPositions: Bool { modelType == "roberta" || modelType == "xlm-roberta" || modelType == "camembert" }

    /// Checks the numbers fit together; `source` names where they came from in the error.
    public func validate(source: String) throws {
        func fail(_ reason: String) -> ModelError { .invalidConfiguration(source: source, reason: reason) }
        guard hiddenSize > 0, layers >= 0, heads > 0, intermediateSize > 0, vocabularySize > 0, maxPositions > 0 else {
            throw fail("sizes must be positive (hidden_size \(hiddenSize), num_hidden_layers \(layers), num_attention_heads \(heads), intermediate_size \(intermediateSize), vocab_size \(vocabularySize), max_position_embeddings \(maxPositions))")
        }
        guard hiddenSize % heads == 0 else { throw fail("hidden_size \(hiddenSize) is not divisible by num_attention_heads \(heads)") }
        guard positionEmbeddingType == "absolute" else {
            throw fail("position_embedding_type \"\(positionEmbeddingType)\" is not supported (only \"absolute\")")
        }
        _ = try activation(source: source)
    }

    /// The feed-forward activation named by `hidden_act`.
    public func activation(source: String = "config") throws -> Activation.Kind {
        switch hiddenActivation {
        case "gelu": return .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return .geluTanh
        case "relu": return .relu
        case "silu", "swish": return .silu
        default:
            throw ModelError.invalidConfiguration(source: source, reason: "hidden_act \"\(hiddenActivation)\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu, silu)")
        }
    }
}
