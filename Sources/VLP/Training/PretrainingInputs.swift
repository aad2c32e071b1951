import Torch

/// The tensors one pretraining step consumes: what a loader `Batch` carries, or hand-made.
public struct PretrainingInputs {
    /// [B, 3, H, W] float.
    public var images: Tensor
    /// [B] int64; equal ids mark several texts of one image (multi-positive targets).
    public var imageIDs: Tensor
    /// [B, L] texts, with their MLM inputs and labels when masked (needed by MLM, Enhanced
    /// Training and FgD's masked text).
    public var text: TextBatch
    /// [B] int64 1/0 match labels of labelled pairs (matching fine-tuning).
    public var labels: Tensor?
    /// CMCL's extra positive and hard-negative texts (data `rewrites` > 0).
    public var rewrites: RewriteBatch?
    /// Precomputed detector regions with their classes (data `regions`), for single-stream
    /// models that take them instead of pixel patches.
    public var regions: RegionBatch?

    public init(images: Tensor, imageIDs: Tensor, text: TextBatch, labels: Tensor? = nil, rewrites: RewriteBatch? = nil,
                regions: RegionBatch? = nil) {
        (self.images, self.imageIDs, self.text, self.labels, self.rewrites, self.regions) = (images, imageIDs, text, labels, rewrites, regions)
    }

    /// Hand-made inputs (tests): token types all 0.
    public init(images: Tensor, imageIDs: Tensor, inputIDs: Tensor, attentionMask: Tensor,
                maskedInputIDs: Tensor? = nil, mlmLabels: Tensor? = nil, labels: Tensor? = nil) throws {
        self.init(images: images, imageIDs: imageIDs,
                  text: TextBatch(inputIDs: inputIDs, attentionMask: attentionMask, tokenTypeIDs: try Tensor.zeros(like: inputIDs),
                                  maskedInputIDs: maskedInputIDs, mlmLabels: mlmLabels),
                  labels: labels)
    }

    /// From a loader batch with texts (moved to `device`).
    public init(_ batch: Batch, device: Device = .cpu) throws {
        guard let text = batch.text else {
            throw RecipeError(message: "pretraining needs texts, but the loader gave image-only batches")
        }
        self.init(images: try batch.images.to(device: device), imageIDs: try batch.imageIDs.to(device: device),
                  text: try text.to(device: device), labels: try batch.labels?.to(device: device),
                  rewrites: try batch.rewrites?.to(device: device), regions: try batch.regions?.to(device: device))
    }

    // The objectives read the text tensors by these names.
    public var inputIDs: Tensor { text.inputIDs }
    public var attentionMask: Tensor { text.attentionMask }
    public var maskedInputIDs: Tensor? { text.maskedInputIDs }
    public var mlmLabels: Tensor? { text.mlmLabels }

    public var count: Int { images.size(0) }
}
