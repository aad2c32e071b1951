import Foundation
import Torch

/// What a text tower gives for a batch of texts.
public struct TextTowerOutput {
    /// One vector per text [B, width], what the dual encoder projects to its contrastive feature
    /// (BERT: the `[CLS]` state; CLIP: the end-of-text token's state after the final norm).
    public let pooled: Tensor
    /// Token states [B, L, width] (what cross encoders attend to).
    public let states: Tensor
}

/// A text encoder a `DualEncoder` can use as its text tower: `BertModel` (swift-vlp, Chinese-CLIP,
/// ALIGN, R2D2) or `CLIPTextTransformer` (OpenAI CLIP, OpenCLIP). The model configuration's `text`
/// section chooses one (`TextTowerConfiguration`).
public protocol TextTower: Module, BlockStack {
    /// Width of the pooled vector and of every token state.
    var width: Int { get }
    /// - Parameters: int64 [B, L] ids, the [B, L] mask (1 at real tokens) and optional segment
    ///   ids, as `TextBatch` holds them. A tower may not need the mask (CLIP's causal attention
    ///   never lets a token see the padding after it).
    func towerOutput(_ inputIDs: Tensor, attentionMask: Tensor, tokenTypeIDs: Tensor?) throws -> TextTowerOutput
}

extension BertModel: TextTower {
    public var width: Int { configuration.hiddenSize }

    /// The last layer's states; `pooled` is the first token's (`[CLS]`).
    public func towerOutput(_ inputIDs: Tensor, attentionMask: Tensor, tokenTypeIDs: Tensor?) throws -> TextTowerOutput {
        let output = try self(inputIDs, attentionMask: attentionMask, tokenTypeIDs: tokenTypeIDs)
        return TextTowerOutput(pooled: try output.hiddenStates.select(dim: 1, index: 0), states: output.hiddenStates)
    }
}
