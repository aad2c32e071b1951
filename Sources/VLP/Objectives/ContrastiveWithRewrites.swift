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
    /// A batch's rewritten texts through the text tower: each sample's extra positive [B, D]
    /// and its K hard-negative slots [B·K, D] with their validity [B, K].
    public struct RewriteFeatures {
        public var positives: Tensor
        public var negatives: Tensor
        public var negativeIsValid: Tensor

        public init(positives: Tensor, negatives: Tensor, negativeIsValid: Tensor) {
            (self.positives, self.negatives, self.negativeIsValid) = (positives, negatives, negativeIsValid)
        }
    }

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

    /// CMCL on a batch of two towers' L2-normalised features (`PretrainingLoss` calls it):
    ///
    /// - image → text: row i's candidates are every text of the batch — the chosen texts [B, D]
    ///   and each sample's extra positive [B, D], positives wherever the image id is i's — and
    ///   sample i's own K hard negatives [B·K, D] where `negativeIsValid` [B, K] says so; the
    ///   multi-positive loss above;
    /// - text → image: every chosen and extra text against the batch's images, uniform
    ///   targets over the images of its id (InfoNCE, as GCPR);
    ///
    /// and the mean of the two. Logits are cosine · `logitScale`. On several workers, "the batch"
    /// is every worker's (`gather`, as GCPR's): the mean of the workers' losses is the loss of
    /// the concatenated batch. A row's own hard negatives stay on its worker: no other row
    /// reads them.
    public static func loss(imageFeatures: Tensor, textFeatures: Tensor, positiveFeatures: Tensor, negativeFeatures: Tensor,
                            negativeIsValid: Tensor, imageIDs: Tensor, logitScale: Tensor,
                            gather: FeatureGather = LocalGather()) throws -> Tensor {
        let b = imageFeatures.size(0), k = negativeIsValid.size(1)
        let localTexts = try cat([textFeatures, positiveFeatures])
        let localTextIDs = try cat([imageIDs, imageIDs])
        let allImages = try gather.gather(imageFeatures).all
        let allImageIDs = try gather.gather(imageIDs).all
        let allTexts = try cat([gather.gather(textFeatures).all, gather.gather(positiveFeatures).all])
        let allTextIDs = try cat([allImageIDs, allImageIDs])
        let batchLogits = try imageFeatures.matmul(allTexts.transposed(0, 1)) * logitScale
        let ownNegatives = try negativeFeatures.reshaped([b, k, negativeFeatures.size(1)])
        let negativeLogits = try (ownNegatives * imageFeatures.unsqueezed(dim: 1)).sum(dim: 2) * logitScale
        let sameImage = try imageIDs.unsqueezed(dim: 1) .== allTextIDs.unsqueezed(dim: 0)
        let noPositive = try Tensor.zeros([b, k], dtype: .bool, device: imageFeatures.device)
        let everyText = try Tensor.ones([b, allTexts.size(0)], dtype: .bool, device: imageFeatures.device)
        let imageToText = try loss(logits: cat([batchLogits, negativeLogits], dim: 1),
                                   positiveMask: cat([sameImage, noPositive], dim: 1),
                                   candidateMask: cat([everyText, negativeIsValid], dim: 1))
        let textToImageLogits = try localTexts.matmul(allImages.transposed(0, 1)) * logitScale
        let targets = try GlobalContrastiveLoss.multiPositiveTargets(rowIDs: localTextIDs, columnIDs: allImageIDs, dtype: textToImageLogits.dtype)
        let textToImage = try Functional.crossEntropy(textToImageLogits, targets)
        return try (imageToText + textToImage) * 0.5
    }
}
