import Torch

/// GCPR, R2D2's global contrastive pre-ranking loss (InfoNCE in both directions):
///
///   s_ij = scale · v_i · t_j,  with v, t L2-normalised and scale = 1/τ learned;
///   L = ½ [ CE(s_i·, y_i·) + CE(s_·j, y_·j) ],
///
/// where the target y_ij is uniform over every gathered sample that shows the same image
/// (several texts of one image are all positives), and the candidates come from every worker
/// through `gather`.
public struct GlobalContrastiveLoss {
    public var gather: FeatureGather

    public init(gather: FeatureGather = LocalGather()) {
        self.gather = gather
    }

    public struct Output {
        public let loss: Tensor
        /// Image-to-text logits of the local rows against all gathered texts [B, N].
        public let imageToText: Tensor
        /// Text-to-image logits [B, N].
        public let textToImage: Tensor
        /// Multi-positive targets [B, N] (rows sum to 1).
        public let targets: Tensor
    }

    /// - Parameters: `imageFeatures`, `textFeatures` [B, D] L2-normalised; `imageIDs` [B] int64.
    public func callAsFunction(imageFeatures: Tensor, textFeatures: Tensor, imageIDs: Tensor, logitScale: Tensor) throws -> Output {
        let allImages = try gather.gather(imageFeatures).all
        let allTexts = try gather.gather(textFeatures).all
        let allIDs = try gather.gather(imageIDs).all
        let imageToText = try imageFeatures.matmul(allTexts.transposed(0, 1)) * logitScale
        let textToImage = try textFeatures.matmul(allImages.transposed(0, 1)) * logitScale
        let targets = try Self.multiPositiveTargets(rowIDs: imageIDs, columnIDs: allIDs, dtype: imageToText.dtype)
        let loss = try (Functional.crossEntropy(imageToText, targets) + Functional.crossEntropy(textToImage, targets)) * 0.5
        return Output(loss: loss, imageToText: imageToText, textToImage: textToImage, targets: targets)
    }

    /// Row i is uniform over the columns whose id equals row i's id.
    public static func multiPositiveTargets(rowIDs: Tensor, columnIDs: Tensor, dtype: DType = .float32) throws -> Tensor {
        let same = try (rowIDs.unsqueezed(dim: 1) .== columnIDs.unsqueezed(dim: 0)).to(dtype)
        return try same / same.sum(dim: 1, keepDims: true).clamp(min: 1)
    }
}
