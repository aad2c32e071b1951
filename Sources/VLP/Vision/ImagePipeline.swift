import Foundation

/// Decode → transforms → normalized CHW floats: the whole per-image preprocessing of a model.
/// Holds no mutable state; the random steps draw from the generator passed to each call.
public struct ImagePipeline: Sendable {
    public let transforms: [any ImageTransform]
    public let normalization: Normalization
    public var decoder: ImageDecoder
    /// Let JPEGs decode at 1/2, 1/4 or 1/8 scale when the first step needs no more (much faster
    /// for large photos). The pixels then differ slightly from a full decode + resize (about
    /// 2/255 on average for a 1411² photo at 1/8 → 160); turn off for exact parity with
    /// PIL + torchvision, which decode at full size.
    public var allowsDCTScaling: Bool

    public init(_ transforms: [any ImageTransform], normalization: Normalization,
                decoder: ImageDecoder = ImageDecoder(), allowsDCTScaling: Bool = true) {
        self.transforms = transforms
        self.normalization = normalization
        self.decoder = decoder
        self.allowsDCTScaling = allowsDCTScaling
    }

    /// The decoder's DCT-scaling hint: the first step's need, if it states one. Only the first
    /// step sees the decoded image, and a step that does not state a need gets full resolution.
    public var decodeShortSideHint: Int? { allowsDCTScaling ? transforms.first?.decodeShortSideHint : nil }

    /// The transformed image, before normalization.
    public func transform<G: RandomNumberGenerator>(_ image: RGBImage, using generator: inout G) throws(ImageError) -> RGBImage {
        var image = image
        for step in transforms { image = try step.apply(to: image, using: &generator) }
        return image
    }

    public func callAsFunction<G: RandomNumberGenerator>(_ image: RGBImage, using generator: inout G) throws(ImageError) -> ImageTensorData {
        normalization.tensorData(from: try transform(image, using: &generator))
    }

    /// Decodes encoded bytes (with the DCT hint) and preprocesses them.
    public func callAsFunction<G: RandomNumberGenerator>(encoded bytes: [UInt8], source: String = "<memory>",
                                                         using generator: inout G) throws(ImageError) -> ImageTensorData {
        let image = try decoder.decode(bytes, source: source, targetShortSide: decodeShortSideHint)
        return try self(image, using: &generator)
    }

    public func callAsFunction<G: RandomNumberGenerator>(contentsOf path: String,
                                                         using generator: inout G) throws(ImageError) -> ImageTensorData {
        let image = try decoder.decode(contentsOf: path, targetShortSide: decodeShortSideHint)
        return try self(image, using: &generator)
    }
}

extension ImagePipeline {
    /// CLIP's evaluation preprocessing: bicubic resize of the short side to `size`, centre crop,
    /// CLIP normalization (OpenAI CLIP, open_clip, Chinese-CLIP).
    /// `normalization` other than CLIP's for towers pretrained with other statistics.
    public static func clipEvaluation(size: Int = 224, normalization: Normalization = .clip) throws(ImageError) -> ImagePipeline {
        ImagePipeline([try Resize(.shortSide(size), filter: .bicubic), try CenterCrop(size: size)],
                      normalization: normalization)
    }

    /// open_clip's training preprocessing: `RandomResizedCrop(size, scale: 0.9…1, bicubic)`,
    /// CLIP normalization.
    public static func clipTraining(size: Int = 224, scale: ClosedRange<Double> = 0.9...1.0,
                                    normalization: Normalization = .clip) throws(ImageError) -> ImagePipeline {
        ImagePipeline([try RandomResizedCrop(size: size, scale: scale, filter: .bicubic)], normalization: normalization)
    }

    /// torchvision's ImageNet evaluation: resize to `resize` (bilinear), centre crop `size`.
    public static func imagenetEvaluation(size: Int = 224, resize: Int = 256) throws(ImageError) -> ImagePipeline {
        ImagePipeline([try Resize(.shortSide(resize), filter: .bilinear), try CenterCrop(size: size)],
                      normalization: .imagenet)
    }

    /// torchvision's ImageNet training: `RandomResizedCrop(size)`, `RandomHorizontalFlip()`.
    public static func imagenetTraining(size: Int = 224) throws(ImageError) -> ImagePipeline {
        ImagePipeline([try RandomResizedCrop(size: size), try HorizontalFlip(probability: 0.5)],
                      normalization: .imagenet)
    }
}
