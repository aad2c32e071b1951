import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Torch

/// A released checkpoint converted to swift-vlp's terms, ready to become a model bundle: the
/// architecture, the weights under the model's own keys (float32), the preprocessing the family
/// trained with, and an account of the source (`import.json`): which keys were deliberately left
/// out and how many tensors were converted from half precision.
public struct ImportedModel {
    /// The provenance file written beside the bundle's other files.
    public static let recordFile = "import.json"

    public let family: ImportFamily
    /// The checkpoint file read.
    public let source: String
    public let configuration: VLPModelConfiguration
    /// Under the keys of `PretrainingModel(configuration).module`, float32, checked to load strictly.
    public let weights: [String: Tensor]
    /// The tokenizer, context length and image preprocessing the family's models expect.
    public let preprocessing: ModelPreprocessing
    /// The vocabulary file copied into the bundle.
    public let vocabulary: URL
    /// Source keys left out on purpose (e.g. a BERT pooler the family never uses), sorted.
    public let ignoredKeys: [String]
    /// Source tensors stored in another floating-point type (fp16 …) and converted to float32.
    public let convertedTensors: Int
    /// Model keys the source has no tensor for, written as freshly initialised (R2D2's retrieval
    /// checkpoints lack the masked-language head of swift-vlp's R2D2), sorted.
    public let initializedKeys: [String]

    public init(family: ImportFamily, source: String, configuration: VLPModelConfiguration, weights: [String: Tensor],
                preprocessing: ModelPreprocessing, vocabulary: URL, ignoredKeys: [String], convertedTensors: Int,
                initializedKeys: [String] = []) {
        (self.family, self.source, self.configuration, self.weights) = (family, source, configuration, weights)
        (self.preprocessing, self.vocabulary, self.ignoredKeys) = (preprocessing, vocabulary, ignoredKeys)
        (self.convertedTensors, self.initializedKeys) = (convertedTensors, initializedKeys)
    }

    /// What `import.json` holds.
    public struct Record: Codable, Equatable, Sendable {
        public var family: ImportFamily
        public var source: String
        public var ignoredKeys: [String]
        public var convertedTensors: Int
        /// Absent when every model key came from the source.
        public var initializedKeys: [String]?
        enum CodingKeys: String, CodingKey {
            case family, source, ignoredKeys = "ignored_keys", convertedTensors = "converted_tensors", initializedKeys = "initialized_keys"
        }
    }

    public var record: Record {
        Record(family: family, source: source, ignoredKeys: ignoredKeys, convertedTensors: convertedTensors,
               initializedKeys: initializedKeys.isEmpty ? nil : initializedKeys)
    }

    /// A model with these weights, in eval mode (the weights loaded strictly).
    public func makeModel() throws -> PretrainingModel {
        let model = try PretrainingModel(configuration)
        try model.module.loadStateDict(weights, strict: true, source: "\(family.rawValue) import of \(source)")
        model.module.eval()
        return model
    }

    /// Writes the bundle to `output`: `config.json`, `model.safetensors`, `preprocessing.json`
    /// with the vocabulary under `tokenizer/`, and `import.json`. The files are staged in a hidden
    /// folder beside `output` and renamed into place, so `output` is whole or absent. An existing
    /// `output` is an error unless `overwrite` — and even then only a model bundle or an empty
    /// folder is replaced, never other files.
    public func write(to output: URL, overwrite: Bool) throws {
        let output = output.standardizedFileURL
        try Self.checkOutput(output, overwrite: overwrite)
        // The bundle's inputs must fit its model before anything is written.
        _ = try ModelBundle.inputPipeline(preprocessing, vocabularyFile: vocabulary, configuration: configuration,
                                          source: "\(family.rawValue) import of \(source)")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try ModelBundle.writeStaged(to: output, purpose: "import", configuration: configuration, preprocessing: preprocessing,
                                    vocabulary: vocabulary, weights: weights, metadata: ["format": "pt", "imported_from": family.rawValue]) { staging in
            try AtomicFile.write(encoder.encode(record), to: staging.appendingPathComponent(Self.recordFile))
        }
    }

    /// Refuses an `output` that exists, unless `overwrite` and it is a model bundle or an empty folder.
    static func checkOutput(_ output: URL, overwrite: Bool) throws {
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        guard fm.fileExists(atPath: output.path, isDirectory: &isFolder) else { return }
        guard overwrite else {
            throw ImportError.outputExists(path: output.path, reason: "it exists; pass --overwrite to replace it")
        }
        guard isFolder.boolValue else { throw ImportError.outputExists(path: output.path, reason: "it is a file, not a model bundle folder") }
        let contents: [String]
        do { contents = try fm.contentsOfDirectory(atPath: output.path) } catch {
            throw ImportError.outputExists(path: output.path, reason: "cannot list it: \(error.localizedDescription)")
        }
        guard contents.isEmpty || ModelBundle.isBundle(output.path) else {
            throw ImportError.outputExists(path: output.path, reason: "it is neither a model bundle nor empty; --overwrite replaces only those")
        }
    }

    static func rename(_ from: URL, to: URL) throws {
        guard Glibc.rename(from.path, to.path) == 0 else {
            throw ImportError.cannotWrite(path: to.path, reason: "renaming \(from.path): \(String(cString: strerror(errno)))")
        }
    }
}
