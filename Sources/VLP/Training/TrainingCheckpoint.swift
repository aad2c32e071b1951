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
    /// float16 runs' dynamic loss scale (`GradientScaler`); nil for other precisions.
    public var lossScaling: LossScaling?

    /// What a float16 run's `GradientScaler` must resume with.
    public struct LossScaling: Codable, Equatable, Sendable {
        public var scale: Double
        public var goodSteps: Int
        public var skippedSteps: Int

        enum CodingKeys: String, CodingKey { case scale, goodSteps = "good_steps", skippedSteps = "skipped_steps" }

        public init(scale: Double, goodSteps: Int, skippedSteps: Int) {
            (self.scale, self.goodSteps, self.skippedSteps) = (scale, goodSteps, skippedSteps)
        }

        public init(_ scaler: GradientScaler) {
            self.init(scale: scaler.scale, goodSteps: scaler.goodSteps, skippedSteps: scaler.skippedSteps)
        }
    }

    enum CodingKeys: String, CodingKey {
        case step, stage, stageStep = "stage_step", loaderPosition = "loader_position", badSteps = "bad_steps", seed
        case worldSize = "world_size", contextLength = "context_length", lossScaling = "loss_scaling"
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
        lossScaling = try c.decodeIfPresent(LossScaling.self, forKey: .lossScaling)
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

/// A checkpoint folder `step-000100/`: a model bundle (`ModelBundle`: `config.json`, the model
/// configuration; `model.safetensors`; `preprocessing.json` and `tokenizer/`, how inputs are
/// prepared) plus what resuming needs: `optimizer.safetensors` (empty when saved without an
/// optimizer: such a folder evaluates and embeds but cannot resume), `objectives.safetensors`
/// (EMA teacher, distillation queue) and `trainer.json` (`TrainerState`). Folders written before
/// bundles recorded their preprocessing lack the two bundle files and still open.
///
/// A visible `step-*` folder is whole or ignored. `save` writes into a hidden staging folder
/// `.tmp-step-*` and renames it into place; pruning renames an old folder to a hidden
/// `.trash-step-*` before deleting its files. A kill at any moment therefore leaves only hidden
/// leftovers, which `sweep` removes when the next run starts. A `step-*` folder lacking any of
/// `files` (written by hand, or by a version that deleted in place) is not a checkpoint: the
/// latest-checkpoint lookups skip it and report it.
public enum TrainingCheckpoint {
    public static let modelFile = "model.safetensors"
    public static let configFile = "config.json"
    public static let optimizerFile = "optimizer.safetensors"
    public static let objectivesFile = "objectives.safetensors"
    public static let stateFile = "trainer.json"
    /// What every checkpoint folder holds.
    public static let files = [configFile, modelFile, optimizerFile, objectivesFile, stateFile]

    /// A checkpoint folder that could not be moved or removed; names it and says why.
    public struct FolderError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// Prefixes of the hidden folders a save or a prune works in.
    static let stagingPrefix = ".tmp-step-", trashPrefix = ".trash-step-"

    public static func folderName(step: Int) -> String {
        let digits = String(step)
        return "step-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// Writes the checkpoint of `state.step` (replacing one of the same step), then prunes all
    /// but the newest `keep` (at least 1) complete checkpoints. Returns the new folder. `bundle`
    /// is how the model's inputs are prepared, with the tokenizer file to copy in (nil only for
    /// tests of the folder mechanics: such a checkpoint opens as an old one does).
    @discardableResult
    public static func save(in directory: URL, state: TrainerState, model: Module, configuration: VLPModelConfiguration,
                            bundle: (preprocessing: ModelPreprocessing, tokenizerFile: URL)?,
                            optimizer: Optimizer?, objectives: [String: Tensor], keep: Int) throws -> URL {
        let fm = FileManager.default
        try AtomicFile.makeFolder(directory.path)
        let name = folderName(step: state.step)
        let final = directory.appendingPathComponent(name)
        let staging = hiddenFolder(stagingPrefix, of: name, in: directory)
        try? fm.removeItem(at: staging)
        try AtomicFile.makeFolder(staging.path)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(encoder.encode(configuration), to: staging.appendingPathComponent(configFile))
            if let bundle { try ModelBundle.writePreprocessing(bundle.preprocessing, tokenizerFile: bundle.tokenizerFile, into: staging) }
            try SafeTensors.write(Dictionary(model.stateDict().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }),
                                  to: staging.appendingPathComponent(modelFile))
            try SafeTensors.write(try optimizer?.stateDict() ?? [:], to: staging.appendingPathComponent(optimizerFile))
            try SafeTensors.write(objectives, to: staging.appendingPathComponent(objectivesFile))
            try AtomicFile.write(encoder.encode(state), to: staging.appendingPathComponent(stateFile))
            // A folder of the same step (a run repeated over the same output) goes out of sight first.
            let displaced = fm.fileExists(atPath: final.path) ? hiddenFolder(trashPrefix, of: name, in: directory) : nil
            if let displaced {
                try? fm.removeItem(at: displaced)
                try renameFolder(final, to: displaced)
            }
            do { try renameFolder(staging, to: final) } catch {
                if let displaced { try? renameFolder(displaced, to: final) }
                throw error
            }
            if let displaced { try? fm.removeItem(at: displaced) }
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
        prune(in: directory, keep: keep)
        return final
    }

    /// Removes every `step-*` folder but the newest `keep` (at least 1) complete checkpoints,
    /// incomplete ones included. Each is renamed to a hidden `.trash-step-*` name before its
    /// files are deleted; one that cannot be moved stays (it is whole), one whose files cannot
    /// all be deleted is left hidden for `sweep`.
    static func prune(in directory: URL, keep: Int) {
        let kept = Set(list(in: directory).suffix(max(1, keep)).map(\.url.lastPathComponent))
        for name in stepFolderNames(in: directory) where !kept.contains(name) {
            let trash = hiddenFolder(trashPrefix, of: name, in: directory)
            try? FileManager.default.removeItem(at: trash)
            guard (try? renameFolder(directory.appendingPathComponent(name), to: trash)) != nil else { continue }
            try? FileManager.default.removeItem(at: trash)
        }
    }

    /// Removes the staging (`.tmp-step-*`) and trash (`.trash-step-*`) folders an interrupted
    /// save or prune left in `directory`, and returns their names. Runs at the start of a run,
    /// on the rank that writes checkpoints: one run at a time per output folder.
    public static func sweep(in directory: URL) throws -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var removed: [String] = []
        for name in names.sorted() where name.hasPrefix(stagingPrefix) || name.hasPrefix(trashPrefix) {
            let url = directory.appendingPathComponent(name)
            do { try FileManager.default.removeItem(at: url) } catch {
                throw FolderError(path: url.path, reason: "cannot remove this unfinished checkpoint folder: \(error.localizedDescription)")
            }
            removed.append(name)
        }
        return removed
    }

    /// Complete checkpoint folders in `directory`, oldest first.
    public static func list(in directory: URL) -> [(step: Int, url: URL)] {
        scan(directory).complete
    }

    /// `step-*` folders in `directory` that lack some of `files`, oldest first, with the names
    /// of the missing files.
    public static func incomplete(in directory: URL) -> [(url: URL, missing: [String])] {
        scan(directory).incomplete
    }

    /// The newest complete checkpoint in `directory`; `report` is told of every incomplete
    /// `step-*` folder there, which is skipped.
    public static func latest(in directory: URL, reporting report: (String) -> Void) -> (step: Int, url: URL)? {
        let found = scan(directory)
        for (url, missing) in found.incomplete {
            report("\(url.path): not a whole checkpoint (missing \(missing.joined(separator: ", "))); ignored")
        }
        return found.complete.last
    }

    /// How `resolve` reports skipped folders by default: a warning on standard error, each
    /// message once per process (a command resolves the same path several times).
    public static func warnOnce(_ message: String) {
        guard warned.insert(message) else { return }
        FileHandle.standardError.write(Data(("warning: " + message + "\n").utf8))
    }

    private static let warned = MessageSet()

    /// The messages already written, behind a lock: commands resolve checkpoints from any thread.
    private final class MessageSet: @unchecked Sendable {
        private let lock = NSLock()
        private var messages: Set<String> = []

        /// False when `message` was there already.
        func insert(_ message: String) -> Bool {
            lock.lock()
            defer { lock.unlock() }
            return messages.insert(message).inserted
        }
    }

    private static func scan(_ directory: URL) -> (complete: [(step: Int, url: URL)], incomplete: [(url: URL, missing: [String])]) {
        var complete: [(step: Int, url: URL)] = [], incomplete: [(url: URL, missing: [String])] = []
        for name in stepFolderNames(in: directory) {
            let url = directory.appendingPathComponent(name)
            let missing = files.filter { !FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) }
            if missing.isEmpty { complete.append((step(of: name)!, url)) } else { incomplete.append((url, missing)) }
        }
        return (complete, incomplete)
    }

    /// Names of the visible `step-<number>` folders of `directory`, by step.
    private static func stepFolderNames(in directory: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { step(of: $0) != nil }.sorted { step(of: $0)! < step(of: $1)! }
    }

    /// This process's hidden staging or trash folder for the step folder `name`: `prefix`
    /// (which `sweep` matches) followed by the step number and the process id.
    private static func hiddenFolder(_ prefix: String, of name: String, in directory: URL) -> URL {
        directory.appendingPathComponent("\(prefix)\(name.dropFirst("step-".count))-\(getpid())")
    }

    private static func step(of name: String) -> Int? {
        name.hasPrefix("step-") ? Int(name.dropFirst(5)) : nil
    }

    /// rename(2): atomic within one file system, which a checkpoint folder and its staging share.
    private static func renameFolder(_ source: URL, to destination: URL) throws {
        guard rename(source.path, destination.path) == 0 else {
            throw FolderError(path: destination.path, reason: "cannot rename \(source.path) to it: \(String(cString: strerror(errno)))")
        }
    }

    public static func readState(_ folder: URL) throws -> TrainerState {
        let url = folder.appendingPathComponent(stateFile)
        do { return try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: url)) } catch {
            throw ModelError.unreadableFile(path: url.path, reason: "\(error)")
        }
    }

    /// Whether `path` is a swift-vlp checkpoint as `save` writes it: a step folder (it holds
    /// `trainer.json`), or a run or `checkpoints/` folder with a complete one. Commands that
    /// also take other models (a Hugging Face BERT folder holds model.safetensors and
    /// config.json too) choose by this, so a damaged checkpoint's own error reaches the user.
    public static func isCheckpoint(_ path: String) -> Bool {
        let url = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: url.appendingPathComponent(stateFile).path) { return true }
        return !list(in: url.appendingPathComponent("checkpoints")).isEmpty || !list(in: url).isEmpty
    }

    /// A checkpoint folder (taken as given), or the latest complete checkpoint of a run folder
    /// or a `checkpoints/` folder; incomplete `step-*` folders are skipped and told to `report`.
    public static func resolve(_ path: String, reporting report: (String) -> Void = warnOnce) throws -> URL {
        let url = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: url.appendingPathComponent(modelFile).path) { return url }
        for candidate in [url.appendingPathComponent("checkpoints"), url] {
            if let latest = latest(in: candidate, reporting: report) { return latest.url }
        }
        let skipped = incomplete(in: url.appendingPathComponent("checkpoints")) + incomplete(in: url)
        let hint = skipped.isEmpty ? "no checkpoint there" : "no whole checkpoint there (\(skipped.count) incomplete step folder(s) skipped)"
        throw ModelError.missingFile(path: path, hint: hint + ": expected a folder with \(modelFile) and \(configFile), or a run folder with checkpoints/step-*")
    }

    /// Loads a checkpoint folder's `model.safetensors` into `module`, strictly. A checkpoint
    /// without LoRA adapters loads into a module with adapters (they keep their start); one with
    /// adapters needs a module with the same adapters.
    public static func loadWeights(into module: Module, from folder: URL) throws {
        let weights = folder.appendingPathComponent(modelFile)
        let tensors = try SafeTensors.read(weights).tensors
        if module.adaptedLayers().isEmpty, let key = tensors.keys.sorted().first(where: { $0.hasSuffix(".lora_a") }) {
            throw ModelError.invalidCheckpoint(source: weights.path, reason: "it holds LoRA adapters (\(key), …) and this model has none: give the run the lora: settings it was trained with, or make a plain bundle first with `vlp export --merge-lora \(folder.path) --output DIR`")
        }
        _ = try module.loadStateDict(tensors, source: weights.path)
    }

    /// A checkpoint's model configuration, without its weights.
    public static func configuration(_ path: String) throws -> VLPModelConfiguration {
        try ModelConfigurationRegistry.load(contentsOf: resolve(path).appendingPathComponent(configFile))
    }
}
