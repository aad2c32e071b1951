import Torch

/// TgD, R2D2's target-guided distillation. A momentum (EMA) teacher scores the student's rows
/// against the teacher features of the batch and of the queue; the soft targets
///
///   q = α · softmax(s_teacher) + (1 − α) · y
///
/// mix the teacher's distribution with the ground truth y: uniform over every column that shows
/// the row's image, in the batch or in the queue (the queue keeps image ids so that an image met
/// again is not taught as a negative of itself). Queue columns count by their decayed weights w_j: the targets become
/// q'_ij = w_j q_ij / Σ_k w_k q_ik (batch columns weigh 1), and the loss is the cross-entropy
/// −Σ_j q'_ij log softmax(s_student)_ij, averaged over rows and over both directions.
public struct TeacherGuidedDistillation {
    public var alpha: Double

    public init(alpha: Double = 0.4) {
        self.alpha = alpha
    }

    /// - Parameters:
    ///   - student / teacher: this worker's image and text features [B, D] (L2-normalised);
    ///     teacher detached.
    ///   - gathered: the teacher features and image ids of every worker's batch (the batch
    ///     columns, N ≥ B rows) when training on several processes; nil uses this batch's.
    ///   - queue: the teacher queue *before* this batch is enqueued.
    public func callAsFunction(studentImages: Tensor, studentTexts: Tensor, teacherImages: Tensor, teacherTexts: Tensor,
                               imageIDs: Tensor, gathered: (images: Tensor, texts: Tensor, imageIDs: Tensor)? = nil,
                               queue: DistillationQueue, logitScale: Tensor) throws -> Tensor {
        let columnImages = gathered?.images ?? teacherImages
        let columnTexts = gathered?.texts ?? teacherTexts
        let columnIDs = gathered?.imageIDs ?? imageIDs
        let batchColumns = columnImages.size(0)
        let batchWeights = try Tensor.ones([batchColumns], dtype: studentImages.dtype, device: studentImages.device)
        let columnWeights = try queue.weights.map { try cat([batchWeights, $0]) } ?? batchWeights
        let allTeacherTexts = try queue.textFeatures.map { try cat([columnTexts, $0]) } ?? columnTexts
        let allTeacherImages = try queue.imageFeatures.map { try cat([columnImages, $0]) } ?? columnImages
        let allIDs = try queue.imageIDs.map { try cat([columnIDs, $0]) } ?? columnIDs
        let truth = try GlobalContrastiveLoss.multiPositiveTargets(rowIDs: imageIDs, columnIDs: allIDs, dtype: studentImages.dtype)
        func direction(_ student: Tensor, _ teacher: Tensor, _ candidatesStudentSide: Tensor) throws -> Tensor {
            let scale = try logitScale.detached()
            let teacherLogits = try withNoGrad { try teacher.matmul(candidatesStudentSide.transposed(0, 1)) * scale }
            let studentLogits = try student.matmul(candidatesStudentSide.transposed(0, 1)) * logitScale
            let soft = try teacherLogits.softmax(dim: 1) * alpha + truth * (1 - alpha)
            let weighted = try soft * columnWeights.unsqueezed(dim: 0)
            let targets = try weighted / weighted.sum(dim: 1, keepDims: true).clamp(min: 1e-12)
            return try -(targets * studentLogits.logSoftmax(dim: 1)).sum(dim: 1).mean()
        }
        let imageToText = try direction(studentImages, teacherImages, allTeacherTexts)
        let textToImage = try direction(studentTexts, teacherTexts, allTeacherImages)
        return try (imageToText + textToImage) * 0.5
    }
}
