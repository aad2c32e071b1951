import Foundation
import Torch

/// A batch of images through the image tower.
public struct EncodedImages {
    /// L2-normalised projections [B, embedDim], the contrastive features.
    public let features: Tensor
    /// The image tower's token states [B, 1 + patches, width] (class or pooled token first), what
    /// the cross encoders attend to.
    public let states: Tensor
}

/// A batch of texts through the text tower.
public struct EncodedTexts {
    /// L2-normalised projections [B, embedDim].
    public let features: Tensor
    /// Token states [B, L, hidden].
    public let states: Tensor
    /// [B, L], 1 at real tokens.
    public let attentionMask: Tensor
}

/// What a dual encoder returns for image–text pairs.
public struct DualEncoderOutput {
    public let images: EncodedImages
    public let texts: EncodedTexts
    /// 1/τ, clamped (DESIGN.md §1).
    public let logitScale: Tensor
}

/// ALIGN / CLIP's two-tower model: a text tower (BERT, `[CLS]` pooled, or CLIP's causal text
/// transformer, end-of-text pooled, as the configuration's `text.kind` says) and an image tower (a
/// ViT or EfficientNet, as `vision.kind` says), each followed by a linear
/// projection to a shared width, plus a learned temperature. Trained with GCPR + two-way
/// distillation it is R2D2's baseline PRD2; it is also R2D2's first stage.
///
/// Keys: `text.*` (Hugging Face BERT or CLIP text tower), `vision.*` (the image tower's own: Hugging Face CLIP vision
/// tower, or lukemelas EfficientNet), `text_projection`, `visual_projection`, `temperature.logit_scale`.
public final class DualEncoder: Module {
    @Child(key: "text") public var textEncoder: any TextTower
    @Child(key: "vision") public var imageEncoder: any ImageTower
    @Child(key: "text_projection") public var textProjection: Linear
    @Child(key: "visual_projection") public var imageProjection: Linear
    public var temperature: LearnedTemperature
    public let configuration: VLPModelConfiguration

    public init(_ configuration: VLPModelConfiguration) throws {
        try configuration.validate(source: "DualEncoder")
        _textEncoder.wrappedValue = try configuration.text.makeTower()
        _imageEncoder.wrappedValue = try configuration.vision.makeTower()
        _textProjection.wrappedValue = try Linear(configuration.text.hiddenSize, configuration.embedDim, bias: configuration.projectionBias)
        _imageProjection.wrappedValue = try Linear(configuration.vision.width, configuration.embedDim, bias: configuration.projectionBias)
        temperature = try LearnedTemperature()
        self.configuration = configuration
        super.init()
    }

    /// - Parameter patchMask: boolean [B, patches] of the tower's `patchGrid`, true at patches
    ///   hidden from the model.
    public func encodeImages(_ images: Tensor, patchMask: Tensor? = nil) throws -> EncodedImages {
        let output = try imageEncoder.encode(images, patchMask: patchMask)
        let features = try Functional.normalize(imageProjection(output.pooled), dim: -1)
        return EncodedImages(features: features, states: output.states)
    }

    /// - Parameters: int64 [B, L] ids, mask and (optional) token types, as `TextBatch` holds them.
    public func encodeTexts(_ inputIDs: Tensor, attentionMask: Tensor, tokenTypeIDs: Tensor? = nil) throws -> EncodedTexts {
        let output = try textEncoder.towerOutput(inputIDs, attentionMask: attentionMask, tokenTypeIDs: tokenTypeIDs)
        let features = try Functional.normalize(textProjection(output.pooled), dim: -1)
        return EncodedTexts(features: features, states: output.states, attentionMask: attentionMask)
    }

    public func callAsFunction(images: Tensor, inputIDs: Tensor, attentionMask: Tensor,
                               tokenTypeIDs: Tensor? = nil) throws -> DualEncoderOutput {
        DualEncoderOutput(images: try encodeImages(images),
                          texts: try encodeTexts(inputIDs, attentionMask: attentionMask, tokenTypeIDs: tokenTypeIDs),
                          logitScale: try temperature.scale())
    }

    /// A frozen copy with the same weights: the momentum teacher of TgD / FgD.
    public func frozenCopy() throws -> DualEncoder {
        let copy = try DualEncoder(configuration)
        try withNoGrad {
            let source = Dictionary(stateDict().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
            // A student with LoRA adapters gets a teacher with the same adapters (the EMA follows them by name).
            try copy.attachAdapters(for: source)
            _ = try copy.loadStateDict(source.mapValues { try $0.detached().clone() }, source: "student")
        }
        // Built on the CPU like every module (its LoRA adapters too); it lives where the student
        // does (a GPU in training).
        if let device = parameters().first?.device, device != .cpu { try copy.to(device) }
        try copy.freeze()
        copy.eval()
        return copy
    }
}
