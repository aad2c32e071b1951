import Foundation
import Torch

/// The model configuration's `init` section: real weights each tower starts from, as LiT / ALIGN
/// start from a pretrained image and text encoder. Relative paths are found as other assets are
/// (`AssetFile.locate`: the working directory, `VLP_ROOT`, then the package folder of the `vlp`
/// binary), so `assets/minilm` works wherever `make assets` put it. `PretrainingModel.loadInitialWeights` applies them before
/// the first training step — never when a checkpoint is reopened, which holds its own weights.
public struct InitialWeights: Codable, Equatable, Sendable {
    /// A Hugging Face BERT directory (`config.json`, `model.safetensors`) whose shape must be
    /// the configuration's `text` (e.g. `assets/minilm`).
    public var text: String?
    /// An image-tower checkpoint (`.pth` / `.safetensors`) in the tower's own key layout:
    /// lukemelas EfficientNet keys, or Hugging Face CLIP vision keys (`vision_model.` prefix allowed).
    public var vision: String?

    public init(text: String? = nil, vision: String? = nil) {
        self.text = text
        self.vision = vision
    }
}

extension BertConfiguration {
    /// The shape fields that differ from `other`'s, as "name mine vs theirs" (dropout rates are
    /// training settings, not shape, and may differ).
    func shapeDifferences(from other: BertConfiguration) -> [String] {
        var differences: [String] = []
        func compare<T: Equatable>(_ name: String, _ mine: T, _ theirs: T) {
            if mine != theirs { differences.append("\(name) \(mine) vs \(theirs)") }
        }
        compare("model_type", modelType, other.modelType)
        compare("vocab_size", vocabularySize, other.vocabularySize)
        compare("hidden_size", hiddenSize, other.hiddenSize)
        compare("num_hidden_layers", layers, other.layers)
        compare("num_attention_heads", heads, other.heads)
        compare("intermediate_size", intermediateSize, other.intermediateSize)
        compare("hidden_act", hiddenActivation, other.hiddenActivation)
        compare("max_position_embeddings", maxPositions, other.maxPositions)
        compare("type_vocab_size", typeVocabularySize, other.typeVocabularySize)
        compare("layer_norm_eps", layerNormEps, other.layerNormEps)
        compare("pad_token_id", padTokenID, other.padTokenID)
        compare("position_embedding_type", positionEmbeddingType, other.positionEmbeddingType)
        return differences
    }
}

extension DualEncoder {
    /// Loads `weights` into the towers (projections and temperature keep their fresh values).
    /// Throws naming the file and the mismatch when a tower's shape differs from the files'.
    public func loadInitialWeights(_ weights: InitialWeights, log: (String) -> Void) throws {
        if let text = weights.text {
            let directory = URL(fileURLWithPath: AssetFile.locate(text))
            let fileConfiguration = try BertConfiguration.load(contentsOf: directory.appendingPathComponent("config.json"))
            guard let bert = configuration.text.bert else {
                throw ModelError.invalidConfiguration(source: "init.text \(text)", reason: "init.text loads a Hugging Face BERT; this text tower is \(configuration.text.kind.rawValue)")
            }
            let differences = bert.shapeDifferences(from: fileConfiguration)
            guard differences.isEmpty else {
                throw ModelError.invalidConfiguration(source: "init.text \(text)",
                                                      reason: "the text tower's shape differs from the checkpoint's config.json (configuration vs file): \(differences.joined(separator: "; "))")
            }
            let (pretrained, summary) = try BertModel.pretrained(directory: directory)
            let own = Set(textEncoder.stateDict().map(\.name))
            // The tower pools `[CLS]` itself: a checkpoint's pooler is not part of it.
            let tensors = Dictionary(pretrained.stateDict().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
            let left = tensors.keys.filter { !own.contains($0) }.sorted()
            try textEncoder.loadStateDict(tensors.filter { own.contains($0.key) }, strict: true, source: summary.source)
            log("text tower: \(own.count) tensors from \(summary.source)" + Self.notUsed(summary.ignoredKeys + left))
        }
        if let vision = weights.vision {
            let summary = try imageEncoder.loadInitialWeights(from: URL(fileURLWithPath: AssetFile.locate(vision)))
            log("image tower: \(imageEncoder.stateDict().count) tensors from \(summary.source)" + Self.notUsed(summary.ignoredKeys))
        }
    }

    /// "; not used: a, b" (the first five and a count beyond), or "" when every key was used.
    static func notUsed(_ keys: [String]) -> String {
        guard !keys.isEmpty else { return "" }
        let shown = keys.sorted().prefix(5).joined(separator: ", ")
        return "; not used: \(shown)" + (keys.count > 5 ? " and \(keys.count - 5) more" : "")
    }
}
