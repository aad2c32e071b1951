import Foundation
import Torch

/// What loading a pretrained checkpoint left aside, beyond the strict key match.
public struct PretrainedLoadSummary: Sendable, Equatable {
    /// The weights file read.
    public let source: String
    /// The key prefix stripped from every loaded key ("" when none; "bert." for a checkpoint
    /// saved from a model with heads, such as `BertForMaskedLM`).
    public let prefix: String
    /// Checkpoint keys deliberately not loaded: task heads outside `prefix` (`cls.*`,
    /// `lm_head.*`) and the constant `embeddings.position_ids` buffer older `transformers`
    /// versions saved (checked to be 0..<n first).
    public let ignoredKeys: [String]
}

extension BertModel {
    /// Loads a Hugging Face BERT / RoBERTa directory: `config.json` and `model.safetensors`
    /// (or `pytorch_model.bin`). The returned model is in eval mode.
    ///
    /// Loading is strict: every model key must be in the checkpoint and every checkpoint key
    /// must be used, except those listed in the summary — the heads of a checkpoint whose encoder
    /// keys all sit under `bert.` / `roberta.`, and `embeddings.position_ids`. The pooler is
    /// built when the checkpoint has `pooler.dense.weight`.
    public static func pretrained(directory: URL) throws -> (model: BertModel, summary: PretrainedLoadSummary) {
        let configURL = directory.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw ModelError.missingFile(path: configURL.path, hint: "a Hugging Face BERT directory holds config.json and model.safetensors")
        }
        let configuration = try BertConfiguration.load(contentsOf: configURL)
        let candidates = ["model.safetensors", "pytorch_model.bin"].map { directory.appendingPathComponent($0) }
        guard let weightsURL = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw ModelError.missingFile(path: candidates[0].path, hint: "no model.safetensors or pytorch_model.bin in \(directory.path)")
        }
        let tensors = try CheckpointFile.read(weightsURL)
        let (model, summary) = try pretrained(configuration: configuration, tensors: tensors, source: weightsURL.path)
        return (model, summary)
    }

    /// Builds a model for `configuration` and loads `tensors` into it (see `pretrained(directory:)`).
    public static func pretrained(configuration: BertConfiguration, tensors: [String: Tensor],
                                  source: String) throws -> (model: BertModel, summary: PretrainedLoadSummary) {
        let anchor = "embeddings.word_embeddings.weight"
        var prefix = ""
        var ignored: [String] = []
        var own = tensors
        if tensors[anchor] == nil {
            guard let found = ["bert.", "roberta."].first(where: { tensors[$0 + anchor] != nil }) else {
                throw ModelError.invalidCheckpoint(source: source, reason: "no \(anchor) (nor under bert. / roberta.): not a BERT checkpoint")
            }
            prefix = found
            (own, ignored) = CheckpointFile.selecting(prefix: prefix, from: tensors)
        }
        if let positions = own.removeValue(forKey: "embeddings.position_ids") {
            let expected = try Tensor.arange(positions.size(-1)).expanded(positions.shape)
            guard positions.shape.last == configuration.maxPositions, try (positions.to(.int64) .== expected).all() else {
                throw ModelError.invalidCheckpoint(source: source, reason: "\(prefix)embeddings.position_ids \(positions.shape) is not 0..<\(configuration.maxPositions)")
            }
            ignored.append(prefix + "embeddings.position_ids")
        }
        let model = try BertModel(configuration, withPooler: own["pooler.dense.weight"] != nil)
        try model.loadStateDict(own, strict: true, source: prefix.isEmpty ? source : "\(source) (keys under \(prefix))")
        model.eval()
        return (model, PretrainedLoadSummary(source: source, prefix: prefix, ignoredKeys: ignored.sorted()))
    }
}

extension BertTokenizer {
    /// The tokenizer of a Hugging Face BERT directory: its `vocab.txt`, with Hugging Face's
    /// normalisation, lower-casing as `tokenizer_config.json`'s `do_lower_case` says (default true).
    public static func huggingFace(directory: URL) throws -> BertTokenizer {
        let vocabulary = directory.appendingPathComponent("vocab.txt")
        guard FileManager.default.fileExists(atPath: vocabulary.path) else {
            throw ModelError.missingFile(path: vocabulary.path, hint: "a Hugging Face BERT directory holds vocab.txt")
        }
        var options = BertTokenizer.Options.huggingFaceUncased
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        if let data = FileManager.default.contents(atPath: configURL.path) {
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ModelError.invalidConfiguration(source: configURL.path, reason: "not a JSON object")
            }
            if let lowercase = object["do_lower_case"] as? Bool { options.basic.lowercase = lowercase }
        }
        return try BertTokenizer(vocabularyFile: vocabulary.path, options: options)
    }
}
