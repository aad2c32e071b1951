import Foundation

/// A whole vision-language model's shape, as the named JSON configurations hold it
/// (`Resources/ModelConfigs/*.json`; keys in that folder's README).
public struct VLPModelConfiguration: Codable, Equatable, Sendable {
    /// The model families a configuration can build.
    public enum Architecture: String, CaseIterable, Codable, Sendable {
        /// Text encoder + image tower + two cross encoders (`R2D2`).
        case r2d2
        /// Two towers and a learned temperature (`DualEncoder`: ALIGN, CLIP, PRD2).
        case dualEncoder = "dual_encoder"
        /// One transformer over text and image regions (`SingleStream`: ImageBERT).
        case singleStream = "single_stream"

        /// "r2d2, dual_encoder, single_stream", for error messages.
        public static var allowedNames: String { allCases.map(\.rawValue).joined(separator: ", ") }

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            let name = try container.decode(String.self)
            guard let architecture = Architecture(rawValue: name) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "architecture \"\(name)\" is not known (allowed: \(Self.allowedNames))")
            }
            self = architecture
        }
    }

    public var architecture: Architecture
    /// Width of the contrastive projections of both towers.
    public var embedDim: Int
    /// The text tower: a BERT (swift-vlp, Chinese-CLIP, ALIGN, R2D2) or CLIP's causal transformer.
    public var text: TextTowerConfiguration
    /// The image tower: a ViT (R2D2, CLIP; the single stream's patch geometry) or EfficientNet (ALIGN).
    public var vision: ImageTowerConfiguration
    /// Text attends image: queries are text states, context the image states.
    public var textCross: CrossEncoderConfiguration?
    /// Image attends text.
    public var imageCross: CrossEncoderConfiguration?
    /// The single-stream model's region settings (patches when absent).
    public var singleStream: SingleStreamConfiguration?
    /// Real weights the towers start from (`init`), loaded by `PretrainingModel.loadInitialWeights`.
    public var initialWeights: InitialWeights?
    /// Whether the two contrastive projections have biases (R2D2's `vision_proj` / `text_proj`
    /// do; CLIP's, Chinese-CLIP's and swift-vlp's own do not). JSON `projection_bias`, default false.
    public var projectionBias: Bool

    enum CodingKeys: String, CodingKey {
        case architecture, embedDim = "embed_dim", text, vision, textCross = "text_cross", imageCross = "image_cross"
        case singleStream = "single_stream", initialWeights = "init", projectionBias = "projection_bias"
    }

    public init(architecture: Architecture, embedDim: Int, text: TextTowerConfiguration, vision: ImageTowerConfiguration,
                textCross: CrossEncoderConfiguration? = nil, imageCross: CrossEncoderConfiguration? = nil,
                singleStream: SingleStreamConfiguration? = nil, initialWeights: InitialWeights? = nil, projectionBias: Bool = false) {
        self.architecture = architecture
        self.embedDim = embedDim
        self.text = text
        self.vision = vision
        self.textCross = textCross
        self.imageCross = imageCross
        self.singleStream = singleStream
        self.initialWeights = initialWeights
        self.projectionBias = projectionBias
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(architecture: try c.decode(Architecture.self, forKey: .architecture), embedDim: try c.decode(Int.self, forKey: .embedDim),
                  text: try c.decode(TextTowerConfiguration.self, forKey: .text), vision: try c.decode(ImageTowerConfiguration.self, forKey: .vision),
                  textCross: try c.decodeIfPresent(CrossEncoderConfiguration.self, forKey: .textCross),
                  imageCross: try c.decodeIfPresent(CrossEncoderConfiguration.self, forKey: .imageCross),
                  singleStream: try c.decodeIfPresent(SingleStreamConfiguration.self, forKey: .singleStream),
                  initialWeights: try c.decodeIfPresent(InitialWeights.self, forKey: .initialWeights),
                  projectionBias: try c.decodeIfPresent(Bool.self, forKey: .projectionBias) ?? false)
    }

    /// With a ViT image tower.
    public init(architecture: Architecture, embedDim: Int, text: TextTowerConfiguration, vision: VisionTransformerConfiguration,
                textCross: CrossEncoderConfiguration? = nil, imageCross: CrossEncoderConfiguration? = nil,
                singleStream: SingleStreamConfiguration? = nil) {
        self.init(architecture: architecture, embedDim: embedDim, text: text, vision: .vit(vision), textCross: textCross,
                  imageCross: imageCross, singleStream: singleStream)
    }

    /// The same model as another architecture (e.g. the dual-encoder baseline of an R2D2 config).
    public func with(architecture: Architecture) -> VLPModelConfiguration {
        var copy = self
        copy.architecture = architecture
        return copy
    }

    /// Checks each part and that the cross encoders' input widths are the towers' widths.
    public func validate(source: String) throws {
        func fail(_ reason: String) -> ModelError { .invalidConfiguration(source: source, reason: reason) }
        if architecture == .r2d2 && (textCross == nil || imageCross == nil) { throw fail("r2d2 needs text_cross and image_cross") }
        if architecture == .singleStream && vision.vit == nil {
            throw fail("single_stream cuts images into ViT patches: its vision section must be a ViT (kind vit), not \(vision.kind.rawValue)")
        }
        guard embedDim > 0 else { throw fail("embed_dim must be positive") }
        if architecture != .dualEncoder && text.bert == nil {
            throw fail("\(architecture.rawValue) needs a BERT text tower (its cross encoders and masked-language head read BERT states), not \(text.kind.rawValue)")
        }
        try text.validate(source: "\(source) text")
        try vision.validate(source: "\(source) vision")
        for (name, cross, queryWidth, contextWidth) in [("text_cross", textCross, text.hiddenSize, vision.width),
                                                        ("image_cross", imageCross, vision.width, text.hiddenSize)] {
            guard let cross else { continue }
            try cross.validate(source: "\(source) \(name)")
            guard cross.queryInputWidth == queryWidth, cross.contextInputWidth == contextWidth else {
                throw fail("\(name) takes \(cross.queryInputWidth)-wide queries and \(cross.contextInputWidth)-wide context, the towers give \(queryWidth) and \(contextWidth)")
            }
        }
    }
}

/// The named configurations shipped as package resources, as OpenCLIP's `list_models()` /
/// `create_model(name)`: `list()` names them, `load(name)` decodes and validates one.
public enum ModelConfigurationRegistry {
    /// The folder of the JSON files inside the VLP resource bundle.
    public static var directory: URL? {
        Bundle.module.url(forResource: "Resources", withExtension: nil)?.appendingPathComponent("ModelConfigs")
    }

    /// Names (file names without `.json`), sorted.
    public static func list() -> [String] {
        guard let directory, let files = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    public static func load(_ name: String) throws -> VLPModelConfiguration {
        let available = list()
        guard available.contains(name), let url = directory?.appendingPathComponent("\(name).json") else {
            throw ModelError.unknownConfiguration(name: name, available: available)
        }
        return try load(contentsOf: url)
    }

    /// Decodes and validates a configuration file (a named one or the user's own).
    public static func load(contentsOf url: URL) throws -> VLPModelConfiguration {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        let configuration: VLPModelConfiguration
        do { configuration = try JSONDecoder().decode(VLPModelConfiguration.self, from: data) } catch {
            throw ModelError.invalidConfiguration(source: url.path, reason: "\(error)")
        }
        try configuration.validate(source: url.lastPathComponent)
        return configuration
    }
}
