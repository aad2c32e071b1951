import Foundation
import Torch

/// The cross encoders' verdict on a list of image–text pairs.
public struct PairScores {
    /// 2-way match logits of the text-attends-image encoder's `[CLS]` [P, 2] (class 1 = match).
    public let textCrossLogits: Tensor
    /// 2-way match logits of the image-attends-text encoder's class token [P, 2].
    public let imageCrossLogits: Tensor
    /// The text-attends-image encoder's token states [P, L, width] (for the MLM head).
    public let textCrossStates: Tensor
    /// Per layer, the text-attends-image cross-attention [P, heads, L, 1 + patches], when asked.
    public let textCrossAttention: [Tensor]

    /// The mean of the two heads' match probabilities [P], the re-ranking score of two-stage retrieval.
    public func matchProbability() throws -> Tensor {
        let a = try textCrossLogits.softmax(dim: -1).select(dim: 1, index: 1)
        let b = try imageCrossLogits.softmax(dim: -1).select(dim: 1, index: 1)
        return try (a + b) * 0.5
    }
}

/// R2D2 (DESIGN.md §1): a dual encoder (text BERT + image tower, projections, learned temperature) for
/// global pre-ranking, and two cross encoders for fine-grained ranking — text attends image and
/// image attends text — each with a 2-way match head on its first token; the text-attends-image
/// encoder also carries the MLM head (Enhanced Training predicts masked words there).
///
/// Keys: `towers.*` (see `DualEncoder`), `text_cross.*`, `image_cross.*` (see `CrossEncoder`),
/// `text_match_head`, `image_match_head`, `mlm_head.*`.
public final class R2D2: Module, PairScorer {
    public var towers: DualEncoder
    @Child(key: "text_cross") public var textCross: CrossEncoder
    @Child(key: "image_cross") public var imageCross: CrossEncoder
    @Child(key: "text_match_head") public var textMatchHead: Linear
    @Child(key: "image_match_head") public var imageMatchHead: Linear
    @Child(key: "mlm_head") public var mlmHead: MaskedLanguageModelHead
    public let configuration: VLPModelConfiguration

    public init(_ configuration: VLPModelConfiguration) throws {
        try configuration.validate(source: "R2D2")
        guard let textCrossConfiguration = configuration.textCross, let imageCrossConfiguration = configuration.imageCross else {
            throw ModelError.invalidConfiguration(source: "R2D2", reason: "R2D2 needs both text_cross and image_cross")
        }
        towers = try DualEncoder(configuration)
        _textCross.wrappedValue = try CrossEncoder(textCrossConfiguration)
        _imageCross.wrappedValue = try CrossEncoder(imageCrossConfiguration)
        _textMatchHead.wrappedValue = try Linear(textCrossConfiguration.width, 2)
        _imageMatchHead.wrappedValue = try Linear(imageCrossConfiguration.width, 2)
        _mlmHead.wrappedValue = try MaskedLanguageModelHead(width: textCrossConfiguration.width,
                                                           vocabularySize: configuration.text.vocabularySize,
                                                           layerNormEps: textCrossConfiguration.layerNormEps)
        self.configuration = configuration
        super.init()
    }

    /// Scores P pairs given each side's token states (row p of `textStates` pairs with row p of
    /// `imageStates`).
    public func scorePairs(textStates: Tensor, textMask: Tensor, imageStates: Tensor,
                           returnCrossAttention: Bool) throws -> PairScores {
        let textSide = try textCross(queries: textStates, queryMask: textMask, context: imageStates,
                                     returnCrossAttention: returnCrossAttention)
        let imageSide = try imageCross(queries: imageStates, context: textStates, contextMask: textMask)
        let textLogits = try textMatchHead(textSide.hiddenStates.select(dim: 1, index: 0))
        let imageLogits = try imageMatchHead(imageSide.hiddenStates.select(dim: 1, index: 0))
        return PairScores(textCrossLogits: textLogits, imageCrossLogits: imageLogits,
                          textCrossStates: textSide.hiddenStates, textCrossAttention: textSide.crossAttentionWeights)
    }

    /// Vocabulary logits [P, L, V] for the MLM objective, from the text-attends-image states.
    public func maskedLanguageLogits(_ scores: PairScores) throws -> Tensor {
        try mlmHead(scores.textCrossStates)
    }
}
