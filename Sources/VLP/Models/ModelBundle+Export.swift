import Foundation
import Torch

extension ModelBundle {
    /// What `export` wrote.
    public struct ExportSummary {
        public let folder: URL
        /// Layers whose LoRA adapter was folded into the weight.
        public let mergedLayers: Int
        public let tensors: Int
        public let parameters: Int
    }

    /// Writes the bundle (or a run's latest checkpoint) at `path` as a plain model bundle at
    /// `output` — `config.json`, `model.safetensors`, `preprocessing.json` and the tokenizer, no
    /// optimizer or trainer state — staged beside it and renamed into place, so `output` is either
    /// whole or untouched. With `mergingAdapters`, LoRA adapters are folded into their weights,
    /// W ← W + (alpha / r)·B·A (`vlp export --merge-lora`); without it, a checkpoint with adapters
    /// is an error. `overwrite` replaces an existing bundle or empty folder.
    @discardableResult
    public static func export(_ path: String, to output: URL, mergingAdapters: Bool, overwrite: Bool = false) throws -> ExportSummary {
        let output = output.standardizedFileURL
        try ImportedModel.checkOutput(output, overwrite: overwrite)
        let description = try describe(path)
        let bundle = try open(path)
        let module = bundle.model.module
        let adapted = module.adaptedLayers().count
        guard adapted == 0 || mergingAdapters else {
            throw ModelError.invalidCheckpoint(source: description.folder.path, reason: "it holds LoRA adapters on \(adapted) layers; pass --merge-lora to fold them into the weights")
        }
        let merged = try module.mergeAdapters()
        let weights = Dictionary(module.stateDict().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })

        try writeStaged(to: output, purpose: "export", configuration: description.configuration, preprocessing: description.preprocessing,
                        vocabulary: description.vocabularyFile, weights: weights,
                        metadata: ["format": "pt", "exported_from": description.folder.path, "merged_lora_layers": String(merged)])
        return ExportSummary(folder: output, mergedLayers: merged, tensors: weights.count, parameters: module.parameterCount())
    }
}
