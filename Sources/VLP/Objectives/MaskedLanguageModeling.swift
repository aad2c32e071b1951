import Torch

/// MLM: cross-entropy of the predicted vocabulary logits [B, L, V] at masked positions;
/// `labels` [B, L] hold the original ids there and -100 elsewhere. With R2D2's Enhanced
/// Training the logits come from the FGR forward of the positive pairs on the masked text, so
/// MLM needs no forward of its own.
public enum MaskedLanguageModeling {
    public static let ignoredLabel = -100

    public static func loss(logits: Tensor, labels: Tensor) throws -> Tensor {
        let vocabulary = logits.size(-1)
        return try Functional.crossEntropy(logits.reshaped([-1, vocabulary]), labels.reshaped([-1]), ignoreIndex: ignoredLabel)
    }
}
