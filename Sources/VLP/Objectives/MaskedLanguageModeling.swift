import Torch

/// MLM: cross-entropy of the predicted vocabulary logits [B, L, V] at masked positions;
/// `labels` [B, L] hold the original ids there and -100 elsewhere. With R2D2's Enhanced
/// Training the logits come from the FGR forward of the positive pairs on the masked text, so
/// MLM needs no forward of its own.
public enum MaskedLanguageModeling {
    public static let ignoredLabel = -100

    /// The same loss computed from token states [B, L, W] through `head` at the masked
    /// positions only: the vocabulary projection (the costliest part, V ≫ W) runs on the ~15%
    /// of tokens that are predicted rather than on all of them. Zero (with gradient) when no
    /// token is masked.
    public static func loss(states: Tensor, labels: Tensor, head: (Tensor) throws -> Tensor) throws -> Tensor {
        let flatLabels = try labels.reshaped([-1])
        let index = try (flatLabels .!= Int(ignoredLabel)).nonzero().squeezed(dim: 1)
        guard index.size(0) > 0 else { return try states.sum() * 0 }
        let selected = try states.reshaped([-1, states.size(-1)]).indexSelect(dim: 0, index)
        return try Functional.crossEntropy(head(selected), flatLabels.indexSelect(dim: 0, index))
    }

    public static func loss(logits: Tensor, labels: Tensor) throws -> Tensor {
        let vocabulary = logits.size(-1)
        return try Functional.crossEntropy(logits.reshaped([-1, vocabulary]), labels.reshaped([-1]), ignoreIndex: ignoredLabel)
    }
}
