import Torch

/// CMCL, UNIMO's cross-modal contrastive learning with rewritten texts. Each image has several
/// positives (paraphrases, the caption in the other language) and rewritten hard negatives
/// (TF-IDF-retrieved captions of other images, scene-graph rewrites) in the denominator:
///
///   L_i = −log Σ_{p∈P_i} exp(s_ip) + log Σ_{k∈P_i∪N_i} exp(s_ik)
///
/// over a candidate matrix `logits` [B, K] with `positiveMask` (P) and `candidateMask` (P ∪ N)
/// boolean [B, K]; masked-out candidates are excluded. Averaged over rows.
public enum ContrastiveWithRewrites {
    public static func loss(logits: Tensor, positiveMask: Tensor, candidateMask: Tensor) throws -> Tensor {
        if try (positiveMask.to(.int64).sum(dim: 1) .== 0).any() {
            throw TorchError("ContrastiveWithRewrites", "a row has no positive")
        }
        let lowest = -Double(Float.greatestFiniteMagnitude)
        let candidates = try positiveMask.logicalOr(candidateMask)
        let positives = try logits.maskedFill(positiveMask.logicalNot(), lowest).logsumexp(dim: 1)
        let all = try logits.maskedFill(candidates.logicalNot(), lowest).logsumexp(dim: 1)
        return try (all - positives).mean()
    }
}
