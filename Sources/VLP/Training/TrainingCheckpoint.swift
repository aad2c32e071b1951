import Foundation
import Torch

/// Where a run stands, saved with every checkpoint.
public struct TrainerState: Codable, Equatable, Sendable {
    /// Optimizer steps done (all stages).
    public var step: Int
    public var stage: Int
    /// Steps done within `stage`.
    public var stageStep: Int
    /// The loader's position after the last batch used (resume continues there).
    public var loaderPosition: LoaderPosition
    public var badSteps: Int
    public var seed: UInt64
    /// Processes of the run that wrote it; `loaderPosition` is rank 0's.
    public var worldSize: Int
    /// Tokens per text the current stage trained with (its `context_length`): what embedding
    /// and search cut texts to. Nil in checkpoints written before it was recorded.
    public var contextLength: Int?

    enum CodingKeys: String, CodingKey {
        case step, stage, stageStep = "stage_step", loaderPosition = "loader_position", badSteps = "bad_steps", seed
        case worldSize = "world_size", contextLength = "context_length"
    }

    public init(step: Int, stage: Int, stageStep: Int, loaderPosition: LoaderPosition, badSteps: Int, seed: UInt64, worldSize: Int = 1,
                contextLength: Int? = nil) {
        (self.step, self.stage, self.stageStep, self.loaderPosition) = (step, stage, stageStep, loaderPosition)
        (self.badSteps, self.seed, self.worldSize, self.contextLength) = (badSteps, seed, worldSize, contextLength)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(step: try c.decode(Int.self, forKey: .step), stage: try c.decode(Int.self, forKey: .stage),
                  stageStep: try c.decode(Int.self, forKey: .stageStep), loaderPosition: try c.decode(LoaderPosition.self, forKey: .loaderPosition),
                  badSteps: try c.decode(Int.self, forKey: .badSteps), seed: try c.decode(UInt64.self, forKey: .seed),
                  worldSize: try c.decodeIfPresent(Int.self, forKey: .worldSize) ?? 1,
                  contextLength: try c.decodeIfPresent(Int.self, forKey: .contextLength))
    }

    /// This rank's loader position when resuming with `worldSize` processes. Ranks read disjoint
    /// strided parts of one stream (`ShardAssignment.bySample`), so a rank's position is the
    /// stream's divided by the world size: the same world size resumes each rank where rank 0
    /// was (ranks differ at most by skipped samples); another world size resumes at the same
    /// global point of the stream.
    public func loaderPosition(forWorldSize newWorldSize: Int) -> LoaderPosition {
        guard newWorldSize != worldSize else { return loaderPosition }
        var position = loaderPosition
        position.samplesConsumed = loaderPosition.samplesConsumed * worldSize / max(1, newWorldSize)
        return position
    }
}

/// A checkpoint folder `step-000100/`: `config.json` (the model configuration), `model.safetensors`,
/// `optimizer.safetensors`, `objectives.safetensors` (EMA teacher, distillation queue) and
/// `trainer.json` (`TrainerState`). Written into a hidden temporary folder and renamed into place,
/// so a folder named `step-*` is always complete; older ones beyond `keep` are removed after.
public enum TrainingCheckpoint {
    public static let modelFile = "model.safetensors"
    public static let configFile = "config.json"

    public static func folderName(step: Int) -> String {
        let digits = String(step)
        return "step-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    @discardableResult
    public static func save(in directory: URL, state: TrainerState, model: Module, configuration: VLPModelConfiguration,
                            optimizer: Optimizer?, objectives: [String: Tensor], keep: Int) throws -> URL {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let final = directory.appendingPathComponent(folderName(step: state.step))
        let temporary = directory.appendingPathComponent(".tmp-\(folderName(step: state.step))-\(getpid())")
        try? fm.removeItem(at: temporary)
        try fm.createDirectory(at: temporary, withIntermediateDirectories: true)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(configuration).write(to: temporary.appendingPathComponent(configFile))
            try SafeTensors.write(Dictionary(model.stateDict().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }),
                                  to: temporary.appendingPathComponent(modelFile))
            if let optimizer {
                try SafeTensors.write(try optimizer.stateDict(), to: temporary.appendingPathComponent("optimizer.safetensors"))
            }
            try SafeTensors.write(objectives, to: temporary.appendingPathComponent("objectives.safetensors"))
            try encoder.encode(state).write(to: temporary.appendingPathComponent("trainer.json"))
            if fm.fileExists(atPath: final.path) { try fm.removeItem(at: final) }
            try fm.moveItem(at: temporary, to: final)
        } catch {
            try? fm.removeItem(at: temporary)
            throw error
        }
        let all = try list(in: directory)
        for old in all.dropLast(keep) { try? fm.removeItem(at: old.url) }
        return final
    }

    /// Complete checkpoint folders in `directory`, oldest first.
    public static func list(in directory: URL) throws -> [(step: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("step-"), let step = Int(name.dropFirst(5)) else { return nil }
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent("trainer.json").path) else { return nil }
            return (step, url)
        }.sorted { $0.0 < $1.0 }.map { (step: $0.0, url: $0.1) }
    }

    public static func readState(_ folder: URL) throws -> TrainerState {
        let url = folder.appendingPathComponent("trainer.json")
        do { return try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: url)) } catch {
            throw ModelError.unreadableFile(path: url.path, reason: "\(error)")
        }
    }

    /// The context length a checkpoint (or a run's latest) was trained with, when it records one.
    public static func trainedContextLength(_ path: String) -> Int? {
        guard let folder = try? resolve(path) else { return nil }
        return (try? readState(folder))?.contextLength
    }

    /// Whether `path` is a swift-vlp checkpoint as `save` writes it: a step folder (it holds
    /// `trainer.json`), or a run or `checkpoints/` folder with a complete one. Commands that
    /// also take other models (a Hugging Face BERT folder holds model.safetensors and
    /// config.json too) choose by this, so a damaged checkpoint's own error reaches the user.
    public static func isCheckpoint(_ path: String) throws -> Bool {
        let url = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("trainer.json").path) { return true }
        return try !list(in: url.appendingPathComponent("checkpoints")).isEmpty || !list(in: url).isEmpty
    }

    /// A checkpoint folder, a run folder (its latest checkpoint) or a `checkpoints/` folder.
    public static func resolve(_ path: String) throws -> URL {
        let url = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: url.appendingPathComponent(modelFile).path) { return url }
        for candidate in [url.appendingPathComponent("checkpoints"), url] {
            if let latest = try list(in: candidate).last { return latest.url }
        }
        throw ModelError.missingFile(path: path, hint: "no checkpoint there: expected a folder with \(modelFile) and \(configFile), or a run folder with checkpoints/step-*")
    }

    /// The model of a checkpoint folder (configuration + weights, loaded strictly), in eval mode.
    public static func loadModel(_ path: String) throws -> PretrainingModel {
        let folder = try resolve(path)
        let configuration = try configuration(folder.path)
        let model = try PretrainingModel(configuration)
        try loadWeights(into: model.module, from: folder)
        model.module.eval()
        return model
    }

    /// Loads a checkpoint folder's `model.safetensors` into `module`, strictly.
    public static func loadWeights(into module: Module, from folder: URL) throws {
        let weights = folder.appendingPathComponent(modelFile)
        _ = try module.loadStateDict(SafeTensors.read(weights).tensors, source: weights.path)
    }

    /// A checkpoint's model configuration, without its weights.
    public static func configuration(_ path: String) throws -> VLPModelConfiguration {
        try ModelConfigurationRegistry.load(contentsOf: resolve(path).appendingPathComponent(configFile))
    }
}
