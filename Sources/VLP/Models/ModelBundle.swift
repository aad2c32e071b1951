import Foundation
import Torch

/// A model as it travels: a folder holding its architecture (`config.json`), its weights
/// (`model.safetensors`) and how its inputs are prepared (`preprocessing.json`, with the
/// tokenizer's vocabulary copied into `tokenizer/`). Training writes one in every checkpoint
/// folder, `vlp import` writes one from a foreign checkpoint, and every command that uses a model
/// opens it here — OpenCLIP's `create_model_and_transforms` + `get_tokenizer` in one call:
///
/// ```swift
/// let bundle = try ModelBundle.open("runs/r2d2-tiny")      // a run folder: its latest checkpoint
/// let embedder = try TowerEmbedder(bundle)
/// ```
///
/// A checkpoint folder written before bundles recorded their preprocessing still opens: its
/// values are derived from its configuration (image size), its `trainer.json` (context length,
/// else the default then) and the project's Chinese BERT vocabulary under `./assets`, with a
/// one-line notice saying so.
///
/// A checkpoint of a LoRA run (`lora:`) opens with its adapters attached to the layers they
/// adapt; `ModelBundle.export(_:to:mergingAdapters:overwrite:)` writes it as a plain bundle.
public struct ModelBundle {
    public static let preprocessingFile = "preprocessing.json"
    /// The folder inside a bundle holding the tokenizer's files.
    public static let tokenizerFolder = "tokenizer"

    /// The folder opened (a run folder resolves to its latest complete checkpoint).
    public let folder: URL
    /// In eval mode, on the device asked for.
    public let model: PretrainingModel
    public let preprocessing: ModelPreprocessing
    /// Tokenizer, context length and image pipeline, as `preprocessing` describes them.
    public let inputs: InputPipeline

    /// Opens the bundle at `path` (a bundle or checkpoint folder, or a run folder whose latest
    /// complete checkpoint is taken) and loads its weights strictly onto `device`. `notice` hears
    /// of skipped incomplete checkpoints and of preprocessing derived for an older checkpoint.
    public static func open(_ path: String, device: Device = .cpu,
                            notice: (String) -> Void = TrainingCheckpoint.warnOnce) throws -> ModelBundle {
        let described = try describe(path, notice: notice)
        let (folder, configuration, preprocessing) = (described.folder, described.configuration, described.preprocessing)
        let inputs = try inputPipeline(preprocessing, vocabularyFile: described.vocabularyFile, configuration: configuration, source: folder.path)
        let model = try PretrainingModel(configuration)
        let weightsURL = folder.appendingPathComponent(TrainingCheckpoint.modelFile)
        // Read in place from the file's mapping and copied into the model: the weights are held
        // once, not twice, while the bundle opens.
        try SafeTensors.withTensors(weightsURL) { weights, _ in
            // A checkpoint of a LoRA run holds its adapters (`….lora_a`, `lora_b`, `lora_scaling`): the
            // model gets the same adapters, so it computes what was trained (`vlp export --merge-lora`
            // folds them into the weights).
            try model.module.attachAdapters(for: weights)
            _ = try model.module.loadStateDict(weights, source: weightsURL.path)
        }
        model.module.eval()
        if device != .cpu {
            try device.checkAvailable()
            try model.module.to(device)
        }
        return ModelBundle(folder: folder, model: model, preprocessing: preprocessing, inputs: inputs)
    }

    /// A bundle without its weights: the folder `path` resolves to, the model configuration, how
    /// inputs are prepared and the vocabulary file — what fine-tuning it needs before the trainer
    /// loads the weights.
    public struct Description {
        public let folder: URL
        public let configuration: VLPModelConfiguration
        public let preprocessing: ModelPreprocessing
        public let vocabularyFile: URL
    }

    /// Describes the bundle at `path` (or a run folder's latest checkpoint), reading no weights.
    public static func describe(_ path: String, notice: (String) -> Void = TrainingCheckpoint.warnOnce) throws -> Description {
        let folder = try TrainingCheckpoint.resolve(path, reporting: notice)
        let configuration = try ModelConfigurationRegistry.load(contentsOf: folder.appendingPathComponent(TrainingCheckpoint.configFile))
        let (preprocessing, vocabulary) = try readPreprocessing(folder: folder, configuration: configuration, notice: notice)
        return Description(folder: folder, configuration: configuration, preprocessing: preprocessing, vocabularyFile: vocabulary)
    }

    /// Whether `path` is a model this type opens: a folder with `preprocessing.json`, or a
    /// swift-vlp checkpoint (`TrainingCheckpoint.isCheckpoint`). Commands that also take other
    /// models (a Hugging Face BERT folder holds `model.safetensors` and `config.json` too)
    /// choose by this, so that a damaged bundle's own error reaches the user.
    public static func isBundle(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: URL(fileURLWithPath: path).appendingPathComponent(preprocessingFile).path)
            || TrainingCheckpoint.isCheckpoint(path)
    }

    /// Writes `preprocessing.json` into `folder` and copies `tokenizerFile` to where
    /// `preprocessing.text.vocabulary` points inside it.
    public static func writePreprocessing(_ preprocessing: ModelPreprocessing, tokenizerFile: URL, into folder: URL) throws {
        try preprocessing.validate(source: tokenizerFile.path)
        let contents: Data
        do { contents = try Data(contentsOf: tokenizerFile) } catch {
            throw ModelError.unreadableFile(path: tokenizerFile.path, reason: "the tokenizer's file, copied into every checkpoint: \(error.localizedDescription)")
        }
        let destination = folder.appendingPathComponent(preprocessing.text.vocabulary)
        try AtomicFile.makeFolder(destination.deletingLastPathComponent().path)
        try AtomicFile.write(contents, to: destination)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(preprocessing), to: folder.appendingPathComponent(preprocessingFile))
    }

    /// The bundle's preprocessing and the absolute path of its vocabulary file; for a checkpoint
    /// without `preprocessing.json`, the values it trained with, derived as the type's comment says.
    static func readPreprocessing(folder: URL, configuration: VLPModelConfiguration,
                                  notice: (String) -> Void) throws -> (ModelPreprocessing, URL) {
        let url = folder.appendingPathComponent(preprocessingFile)
        if FileManager.default.fileExists(atPath: url.path) {
            let preprocessing: ModelPreprocessing
            do { preprocessing = try JSONDecoder().decode(ModelPreprocessing.self, from: Data(contentsOf: url)) } catch {
                throw ModelError.invalidConfiguration(source: url.path, reason: "\(error)")
            }
            try preprocessing.validate(source: url.path)
            return (preprocessing, folder.appendingPathComponent(preprocessing.text.vocabulary))
        }
        let state = try TrainingCheckpoint.readState(folder)
        let contextLength = state.contextLength ?? ModelPreprocessing.legacyContextLength
        let tokenizer = TokenizerKind.bertChinese
        var preprocessing = ModelPreprocessing.trained(configuration: configuration, tokenizer: tokenizer, contextLength: contextLength)
        let vocabulary = tokenizer.locatedDefaultFile
        preprocessing.text.vocabulary = vocabulary.path
        notice("\(folder.path) has no \(preprocessingFile) (written before checkpoints recorded it): using the \(tokenizer.rawValue) vocabulary \(vocabulary.path), context length \(contextLength)\(state.contextLength == nil ? " (the default then)" : ""), \(preprocessing.image.size) px images, resize + crop, CLIP mean/std")
        return (preprocessing, vocabulary)
    }

    /// The input pipeline `preprocessing` describes, checked against the model it feeds.
    static func inputPipeline(_ preprocessing: ModelPreprocessing, vocabularyFile: URL, configuration: VLPModelConfiguration,
                              source: String) throws -> InputPipeline {
        func fail(_ reason: String) -> ModelError { .invalidConfiguration(source: source, reason: reason) }
        guard preprocessing.text.pooling == configuration.text.pooling else {
            throw fail("text pooling \"\(preprocessing.text.pooling.rawValue)\": this model's \(configuration.text.kind.rawValue) text tower pools by \(configuration.text.pooling.rawValue)")
        }
        let pooling = configuration.vision.pooling
        guard preprocessing.image.pooling == pooling else {
            throw fail("image pooling \"\(preprocessing.image.pooling.rawValue)\": this model's \(configuration.vision.kind.rawValue) image tower pools by \(pooling.rawValue)")
        }
        guard preprocessing.image.size == configuration.vision.imageSize else {
            throw fail("preprocessing gives \(preprocessing.image.size) px images, the image tower takes \(configuration.vision.imageSize)")
        }
        guard preprocessing.text.contextLength <= configuration.text.maxPositions else {
            throw fail("context length \(preprocessing.text.contextLength) exceeds the text tower's \(configuration.text.maxPositions) positions")
        }
        let tokenizer = try preprocessing.text.tokenizer.load(file: vocabularyFile.path)
        guard tokenizer.vocabularySize <= configuration.text.vocabularySize else {
            throw fail("the tokenizer (\(vocabularyFile.path)) has \(tokenizer.vocabularySize) tokens, the text tower's embedding \(configuration.text.vocabularySize)")
        }
        return InputPipeline(tokenizer: tokenizer, contextLength: preprocessing.text.contextLength,
                             images: try preprocessing.image.pipeline(), imageSize: preprocessing.image.size)
    }
}
