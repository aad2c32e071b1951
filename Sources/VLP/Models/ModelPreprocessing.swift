import Foundation

/// How a model's inputs are prepared, as a model bundle records it in `preprocessing.json` beside
/// its weights: the tokenizer (its vocabulary file copied into the bundle), the context length,
/// the image size, resize mode, interpolation and normalisation, how each tower pools its
/// features, and R2D2's re-ranking weight. With it, any process in any folder feeds the model what
/// it trained on; a model imported from elsewhere records its own family's conventions here
/// (Chinese-CLIP squashes to the square, OpenAI CLIP resizes and crops).
public struct ModelPreprocessing: Codable, Equatable, Sendable {
    /// How images are brought to the model's square size.
    public enum ResizeMode: String, Codable, CaseIterable, Sendable {
        /// Shortest side to the size, then a centre crop (OpenAI CLIP, OpenCLIP, swift-vlp).
        case crop
        /// Both sides to the size, aspect ratio not kept (Chinese-CLIP).
        case squash
    }

    /// Which text-tower state becomes the text feature.
    public enum TextPoolingRule: String, Codable, CaseIterable, Sendable {
        /// The first token's (`[CLS]`): BERT towers (swift-vlp, Chinese-CLIP, ALIGN).
        case firstToken = "cls"
        /// The end-of-text token's (the highest id): OpenAI CLIP's causal text transformer.
        case endOfText = "eot"
    }

    /// Which image-tower output becomes the image feature.
    public enum ImagePoolingRule: String, Codable, CaseIterable, Sendable {
        /// The class token's final state, after `post_layernorm` (ViT).
        case classToken = "class-token"
        /// The class token as the last block leaves it, no final norm (R2D2's ViT).
        case classTokenBeforeNorm = "class-token-before-norm"
        /// The mean over the final feature map (EfficientNet, ResNet without attention pooling).
        case average
        /// CLIP's attention pool over the final feature map, queried by its mean (ModifiedResNet).
        case attentionPool = "attention-pool"
    }

    public struct Text: Codable, Equatable, Sendable {
        public var tokenizer: TokenizerKind
        /// The vocabulary (or merges) file, relative to the bundle folder.
        public var vocabulary: String
        /// Token positions per text, special tokens included: what the model trained with.
        public var contextLength: Int
        public var pooling: TextPoolingRule

        enum CodingKeys: String, CodingKey { case tokenizer, vocabulary, contextLength = "context_length", pooling }

        public init(tokenizer: TokenizerKind, vocabulary: String, contextLength: Int, pooling: TextPoolingRule = .firstToken) {
            (self.tokenizer, self.vocabulary, self.contextLength, self.pooling) = (tokenizer, vocabulary, contextLength, pooling)
        }
    }

    public struct Image: Codable, Equatable, Sendable {
        /// Side of the square the image tower takes.
        public var size: Int
        public var resize: ResizeMode
        public var interpolation: Interpolation
        /// Per-channel mean and standard deviation of the normalisation, RGB.
        public var mean: [Float]
        public var std: [Float]
        public var pooling: ImagePoolingRule

        /// `ResampleFilter`'s names, as a bundle stores them.
        public enum Interpolation: String, Codable, CaseIterable, Sendable {
            case bilinear, bicubic
            var filter: ResampleFilter {
                switch self {
                case .bilinear: return .bilinear
                case .bicubic: return .bicubic
                }
            }
        }

        public init(size: Int, resize: ResizeMode = .crop, interpolation: Interpolation = .bicubic,
                    normalization: Normalization = .clip, pooling: ImagePoolingRule = .classToken) {
            (self.size, self.resize, self.interpolation, self.pooling) = (size, resize, interpolation, pooling)
            (mean, std) = (normalization.mean, normalization.std)
        }

        /// The evaluation pipeline these settings describe (no random augmentation).
        public func pipeline() throws -> ImagePipeline {
            let normalization = try Normalization(mean: mean, std: std)
            switch resize {
            case .crop:
                return ImagePipeline([try Resize(.shortSide(size), filter: interpolation.filter), try CenterCrop(size: size)],
                                     normalization: normalization)
            case .squash:
                return ImagePipeline([try Resize(.exact(width: size, height: size), filter: interpolation.filter)],
                                     normalization: normalization)
            }
        }
    }

    /// Layout version of `preprocessing.json`; a newer one is refused rather than misread.
    public var version: Int
    public var text: Text
    public var image: Image
    /// R2D2's two-stage score is `similarity + rerankWeight · mean(match probabilities)`; nil for
    /// models without cross encoders.
    public var rerankWeight: Double?

    public static let currentVersion = 1

    enum CodingKeys: String, CodingKey { case version, text, image, rerankWeight = "rerank_weight" }

    public init(text: Text, image: Image, rerankWeight: Double? = nil) {
        version = Self.currentVersion
        (self.text, self.image, self.rerankWeight) = (text, image, rerankWeight)
    }

    /// What a swift-vlp model trained here is fed: `tokenizer` over the vocabulary stored in the
    /// bundle, resize + centre crop (bicubic) to the model's size, the image tower's statistics
    /// (CLIP's for a ViT, ImageNet's for EfficientNet), the text tower's pooling (first token for BERT), the image
    /// tower's own pooling, and R2D2's unweighted re-ranking sum.
    /// `resize`: how the run brought images to the square (crop unless it said otherwise).
    public static func trained(configuration: VLPModelConfiguration, tokenizer: TokenizerKind, contextLength: Int,
                               resize: ResizeMode = .crop) -> ModelPreprocessing {
        let r2d2 = configuration.textCross != nil && configuration.imageCross != nil
        return ModelPreprocessing(text: Text(tokenizer: tokenizer, vocabulary: ModelBundle.tokenizerFolder + "/" + tokenizer.bundleFileName,
                                             contextLength: contextLength, pooling: configuration.text.pooling),
                                  image: Image(size: configuration.vision.imageSize, resize: resize, normalization: configuration.vision.inputNormalization,
                                               pooling: configuration.vision.pooling),
                                  rerankWeight: r2d2 ? 1 : nil)
    }

    /// The context length every run trained with before checkpoints recorded theirs (the
    /// `context_length` default of a run's data section then).
    public static let legacyContextLength = 32

    /// Checks the values a decoder cannot: positive sizes, three-channel statistics, a
    /// vocabulary path that stays inside the bundle.
    public func validate(source: String) throws {
        func fail(_ reason: String) -> ModelError { .invalidConfiguration(source: source, reason: reason) }
        guard version <= Self.currentVersion else {
            throw fail("version \(version) is newer than this swift-vlp reads (\(Self.currentVersion)); update swift-vlp")
        }
        guard (2...4096).contains(text.contextLength) else { throw fail("text.context_length \(text.contextLength) is outside 2…4096") }
        guard (1...8192).contains(image.size) else { throw fail("image.size \(image.size) is outside 1…8192") }
        guard image.mean.count == 3, image.std.count == 3, image.std.allSatisfy({ $0 > 0 }) else {
            throw fail("image.mean and image.std need three values each, std positive")
        }
        let parts = text.vocabulary.split(separator: "/", omittingEmptySubsequences: false)
        guard !text.vocabulary.hasPrefix("/"), !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0.isEmpty }) else {
            throw fail("text.vocabulary \"\(text.vocabulary)\" must be a path inside the bundle folder")
        }
        if let rerankWeight, !rerankWeight.isFinite || rerankWeight < 0 { throw fail("rerank_weight \(rerankWeight) must be a finite number ≥ 0") }
    }
}
