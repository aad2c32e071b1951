import Torch

/// The tensors one pretraining step consumes: what a loader `Batch` carries, or hand-made.
public struct PretrainingInputs {
    /// [B, 3, H, W] float.
    public var images: Tensor
    /// [B] int64; equal ids mark several texts of one image (multi-positive targets).
    public var imageIDs: Tensor
    /// [B, L] int64.
    public var inputIDs: Tensor
    public var attentionMask: Tensor
    /// MLM inputs and labels [B, L] (labels -100 where nothing is predicted); needed by MLM,
    /// Enhanced Training and FgD's masked text.
    public var maskedInputIDs: Tensor?
    public var mlmLabels: Tensor?
    /// [B] int64 1/0 match labels of labelled pairs (matching fine-tuning).
    public var labels: Tensor?

    public init(images: Tensor, imageIDs: Tensor, inputIDs: Tensor, attentionMask: Tensor,
                maskedInputIDs: Tensor? = nil, mlmLabels: Tensor? = nil, labels: Tensor? = nil) {
        self.labels = labels
        self.images = images
        self.imageIDs = imageIDs
        self.inputIDs = inputIDs
        self.attentionMask = attentionMask
        self.maskedInputIDs = maskedInputIDs
        self.mlmLabels = mlmLabels
    }

    /// From a loader batch with texts (moved to `device`).
    public init(_ batch: Batch, device: Device = .cpu) throws {
        guard let text = batch.text else {
            throw RecipeError(message: "pretraining needs texts, but the loader gave image-only batches")
        }
        self.init(images: try batch.images.to(device: device), imageIDs: try batch.imageIDs.to(device: device),
                  inputIDs: try text.ids.to(device: device), attentionMask: try text.attentionMask.to(device: device),
                  maskedInputIDs: try text.maskedInputIDs?.to(device: device), mlmLabels: try text.mlmLabels?.to(device: device),
                  labels: try batch.labels?.to(device: device))
    }

    public var count: Int { images.size(0) }
}
