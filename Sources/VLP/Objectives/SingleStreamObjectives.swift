import Torch

/// ImageBERT's pretraining losses for the single-stream model.
public enum SingleStreamObjectives {
    /// ITM: 2-way cross-entropy of the [CLS] match logits [B, 2] against labels [B] (1 = matching).
    public static func imageTextMatching(logits: Tensor, labels: Tensor) throws -> Tensor {
        try Functional.crossEntropy(logits, labels)
    }

    /// MOC: cross-entropy over object classes at masked regions; `labels` [B, R] hold the
    /// detector's class for masked regions and -100 elsewhere. Zero (with gradient) when no
    /// region is masked — with a few regions per image a batch may have none.
    public static func maskedObjectClassification(logits: Tensor, labels: Tensor) throws -> Tensor {
        guard try (labels .!= Int(MaskedLanguageModeling.ignoredLabel)).any() else { return try logits.sum() * 0 }
        return try Functional.crossEntropy(logits.reshaped([-1, logits.size(-1)]), labels.reshaped([-1]), ignoreIndex: -100)
    }

    /// MRFR: mean squared error between predicted and original region features [B, R, D],
    /// over the masked regions (`mask` boolean [B, R]) only.
    public static func maskedRegionFeatureRegression(predicted: Tensor, original: Tensor, mask: Tensor) throws -> Tensor {
        let weights = try mask.to(predicted.dtype).unsqueezed(dim: -1)
        let squared = try (predicted - original.detached()).square() * weights
        let count = try weights.sum().clamp(min: 1) * Double(predicted.size(-1))
        return try squared.sum() / count
    }
}
