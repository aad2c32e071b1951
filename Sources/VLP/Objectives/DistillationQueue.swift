import Torch

/// The momentum teacher's feature queue for TgD: the teacher's image and text features of past
/// batches with their image ids and a weight each. Every step the existing weights decay by
/// `decay` (0.99) and the new batch enters with weight 1; the oldest entries leave beyond
/// `capacity`. Holds detached tensors only.
public final class DistillationQueue {
    public let capacity: Int
    public let decay: Double
    public private(set) var imageFeatures: Tensor?
    public private(set) var textFeatures: Tensor?
    public private(set) var imageIDs: Tensor?
    public private(set) var weights: Tensor?

    public init(capacity: Int, decay: Double = 0.99) {
        self.capacity = capacity
        self.decay = decay
    }

    public var count: Int { weights?.size(0) ?? 0 }

    public func enqueue(imageFeatures newImages: Tensor, textFeatures newTexts: Tensor, imageIDs newIDs: Tensor) throws {
        try withNoGrad {
            let fresh = try Tensor.ones([newImages.size(0)], dtype: newImages.dtype, device: newImages.device)
            func push(_ old: Tensor?, _ new: Tensor) throws -> Tensor {
                let joined = try old.map { try cat([new.detached(), $0]) } ?? new.detached()
                return try joined.size(0) > capacity ? joined.narrowed(dim: 0, start: 0, length: capacity) : joined
            }
            let decayed = try weights.map { try $0 * decay }
            imageFeatures = try push(imageFeatures, newImages)
            textFeatures = try push(textFeatures, newTexts)
            imageIDs = try push(imageIDs, newIDs)
            weights = try push(decayed, fresh)
        }
    }

    /// Everything the queue holds, for checkpoints.
    public func stateDict() -> [String: Tensor] {
        var state: [String: Tensor] = [:]
        if let imageFeatures, let textFeatures, let imageIDs, let weights {
            state = ["image_features": imageFeatures, "text_features": textFeatures, "image_ids": imageIDs, "weights": weights]
        }
        return state
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        guard !state.isEmpty else { imageFeatures = nil; textFeatures = nil; imageIDs = nil; weights = nil; return }
        guard let i = state["image_features"], let t = state["text_features"], let ids = state["image_ids"], let w = state["weights"] else {
            throw TorchError("DistillationQueue", "state lacks one of image_features, text_features, image_ids, weights")
        }
        (imageFeatures, textFeatures, imageIDs, weights) = (i, t, ids, w)
    }
}
