import Torch

/// One batch of B samples as tensors on the CPU (move with `to(_:)`).
///
/// Made by the loader's assembly thread and handed over whole: the consumer owns it and no
/// other thread keeps a reference, which is why it may cross threads although `Tensor` is a
/// class.
public final class Batch: @unchecked Sendable {
    /// [B, 3, H, W] float32, normalized.
    public let images: Tensor
    /// [B] int64: equal ids mean the same image (byte for byte), i.e. several positives for
    /// contrastive targets.
    public let imageIDs: Tensor
    /// The samples' ids, in batch order.
    public let sampleIDs: [String]
    /// The text tensors, nil for image-only loading.
    public let text: TextTensors?
    /// Where the loader stands after this batch: save it with the checkpoint of the step that
    /// used this batch.
    public let position: LoaderPosition

    /// [B, L] tensors of the chosen texts.
    public final class TextTensors: @unchecked Sendable {
        /// int64 token ids, padded with the tokenizer's padding id.
        public let ids: Tensor
        /// int64, 1 for real tokens and 0 for padding.
        public let attentionMask: Tensor
        /// int64 segment ids (all 0 for single texts).
        public let tokenTypeIDs: Tensor
        /// int64 MLM inputs (chosen positions replaced), when masking is on.
        public let maskedInputIDs: Tensor?
        /// int64 MLM targets: the original id at chosen positions, -100 elsewhere.
        public let mlmLabels: Tensor?
        /// The texts themselves and their kinds, in batch order.
        public let strings: [String]
        public let kinds: [TextKind]

        init(ids: Tensor, attentionMask: Tensor, tokenTypeIDs: Tensor, maskedInputIDs: Tensor?, mlmLabels: Tensor?,
             strings: [String], kinds: [TextKind]) {
            self.ids = ids
            self.attentionMask = attentionMask
            self.tokenTypeIDs = tokenTypeIDs
            self.maskedInputIDs = maskedInputIDs
            self.mlmLabels = mlmLabels
            self.strings = strings
            self.kinds = kinds
        }

        func to(_ device: Device) throws -> TextTensors {
            TextTensors(ids: try ids.to(device: device), attentionMask: try attentionMask.to(device: device),
                        tokenTypeIDs: try tokenTypeIDs.to(device: device),
                        maskedInputIDs: try maskedInputIDs?.to(device: device), mlmLabels: try mlmLabels?.to(device: device),
                        strings: strings, kinds: kinds)
        }
    }

    /// [B] int64 sample labels (class index, or 1/0 for matching pairs), when every sample of
    /// the batch has one.
    public let labels: Tensor?

    init(images: Tensor, imageIDs: Tensor, sampleIDs: [String], text: TextTensors?, position: LoaderPosition, labels: Tensor? = nil) {
        self.labels = labels
        self.images = images
        self.imageIDs = imageIDs
        self.sampleIDs = sampleIDs
        self.text = text
        self.position = position
    }

    /// Number of samples.
    public var count: Int { sampleIDs.count }

    /// The same batch with every tensor on `device`.
    public func to(_ device: Device) throws -> Batch {
        Batch(images: try images.to(device: device), imageIDs: try imageIDs.to(device: device),
              sampleIDs: sampleIDs, text: try text?.to(device), position: position, labels: try labels?.to(device: device))
    }
}
