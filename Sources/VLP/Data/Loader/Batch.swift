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
    /// The chosen texts' tensors (padded to the context length, masked when MLM is on); nil for
    /// image-only loading.
    public let text: TextBatch?
    /// The chosen texts themselves and their kinds, in batch order (empty for image-only loading).
    public let texts: [String]
    public let textKinds: [TextKind]
    /// Where the loader stands after this batch: save it with the checkpoint of the step that
    /// used this batch.
    public let position: LoaderPosition

    /// [B] int64 sample labels (class index, or 1/0 for matching pairs), when every sample of
    /// the batch has one.
    public let labels: Tensor?
    /// CMCL's extra positive and hard-negative texts, when the transform prepares them.
    public let rewrites: RewriteBatch?
    /// The samples' detector regions, when the transform reads them.
    public let regions: RegionBatch?

    init(images: Tensor, imageIDs: Tensor, sampleIDs: [String], text: TextBatch?, texts: [String], textKinds: [TextKind],
         position: LoaderPosition, labels: Tensor? = nil, rewrites: RewriteBatch? = nil, regions: RegionBatch? = nil) {
        self.labels = labels
        self.rewrites = rewrites
        self.regions = regions
        self.texts = texts
        self.textKinds = textKinds
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
              sampleIDs: sampleIDs, text: try text?.to(device: device), texts: texts, textKinds: textKinds, position: position,
              labels: try labels?.to(device: device), rewrites: try rewrites?.to(device: device),
              regions: try regions?.to(device: device))
    }
}
