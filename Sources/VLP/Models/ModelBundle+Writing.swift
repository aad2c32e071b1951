import Foundation
import Torch

extension ModelBundle {
    /// Writes a model bundle at `output` — `config.json`, `model.safetensors` (with `metadata`),
    /// `preprocessing.json` with the vocabulary under `tokenizer/`, and whatever `extraFiles` adds
    /// to the folder — staged in a hidden folder beside `output` (`purpose` names it) and renamed
    /// into place, so `output` is whole or untouched. An existing `output` (checked by the caller)
    /// is moved aside and removed only after the new bundle is in place.
    static func writeStaged(to output: URL, purpose: String, configuration: VLPModelConfiguration, preprocessing: ModelPreprocessing,
                            vocabulary: URL, weights: [String: Tensor], metadata: [String: String],
                            extraFiles: (URL) throws -> Void = { _ in }) throws {
        let fm = FileManager.default
        let parent = output.deletingLastPathComponent()
        try AtomicFile.makeFolder(parent.path)
        let staging = parent.appendingPathComponent(".\(output.lastPathComponent).tmp-\(purpose)-\(getpid())")
        if fm.fileExists(atPath: staging.path) { try fm.removeItem(at: staging) }
        try AtomicFile.makeFolder(staging.path)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(encoder.encode(configuration), to: staging.appendingPathComponent(TrainingCheckpoint.configFile))
            try writePreprocessing(preprocessing, tokenizerFile: vocabulary, into: staging)
            try SafeTensors.write(weights, metadata: metadata, to: staging.appendingPathComponent(TrainingCheckpoint.modelFile))
            try extraFiles(staging)
            var displaced: URL?
            if fm.fileExists(atPath: output.path) {
                let trash = parent.appendingPathComponent(".\(output.lastPathComponent).trash-\(purpose)-\(getpid())")
                if fm.fileExists(atPath: trash.path) { try fm.removeItem(at: trash) }
                try ImportedModel.rename(output, to: trash)
                displaced = trash
            }
            try ImportedModel.rename(staging, to: output)
            if let displaced { try fm.removeItem(at: displaced) }
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
    }
}
