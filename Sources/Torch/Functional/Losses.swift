import CTorch

/// How a loss reduces over the batch.
public enum Reduction: Int32, Sendable {
    case none = 0, mean = 1, sum = 2
}

extension Functional {
    /// Cross-entropy of `logits` [N, C, …] against class indices (int64 [N, …]) or class
    /// probabilities (float, same shape as logits): optional class `weight`, `ignoreIndex`
    /// for index targets, and `labelSmoothing`.
    public static func crossEntropy(_ logits: Tensor, _ target: Tensor, weight: Tensor? = nil, reduction: Reduction = .mean,
                                    ignoreIndex: Int = -100, labelSmoothing: Double = 0) throws -> Tensor {
        try wrap(vt_cross_entropy(logits.handle, target.handle, weight?.handle, reduction.rawValue, Int64(ignoreIndex), labelSmoothing),
                 "crossEntropy of logits \(logits.shape) and target \(target.shape) \(target.dtype)")
    }

    /// Binary cross-entropy on logits, with optional element `weight` and `positiveWeight` per class.
    public static func binaryCrossEntropyWithLogits(_ logits: Tensor, _ target: Tensor, weight: Tensor? = nil,
                                                    positiveWeight: Tensor? = nil, reduction: Reduction = .mean) throws -> Tensor {
        try wrap(vt_binary_cross_entropy_with_logits(logits.handle, target.handle, weight?.handle, positiveWeight?.handle, reduction.rawValue),
                 "binaryCrossEntropyWithLogits of \(logits.shape) and \(target.shape)")
    }

    public static func mseLoss(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) throws -> Tensor {
        try wrap(vt_mse_loss(prediction.handle, target.handle, reduction.rawValue), "mseLoss of \(prediction.shape) and \(target.shape)")
    }
}
