import Foundation
import Torch

/// A model part that scores image–text pairs from the towers' token states — R2D2's two cross
/// encoders: FGR trains it, two-stage retrieval re-ranks with it, entity attention maps read it.
public protocol PairScorer: AnyObject {
    /// Scores P pairs: row p of `textStates` ([P, L, text width], mask [P, L]) with row p of
    /// `imageStates` ([P, 1 + patches, image width]); with `returnCrossAttention` the
    /// text-attends-image encoder's attention weights come back too.
    func scorePairs(textStates: Tensor, textMask: Tensor, imageStates: Tensor, returnCrossAttention: Bool) throws -> PairScores
}

extension PairScorer {
    public func scorePairs(textStates: Tensor, textMask: Tensor, imageStates: Tensor) throws -> PairScores {
        try scorePairs(textStates: textStates, textMask: textMask, imageStates: imageStates, returnCrossAttention: false)
    }
}
