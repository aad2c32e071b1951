import Torch

/// CMCL's extra texts of a batch of B samples (`SampleTransform.PreparedRewrites`): one more
/// positive per sample, and K hard-negative slots per sample with a mask of the filled ones.
public struct RewriteBatch {
    /// [B, L]: another positive text of each sample.
    public let positives: TextBatch
    /// [B·K, L]: sample i's negatives are rows i·K ..< (i + 1)·K.
    public let negatives: TextBatch
    /// [B, K] bool: true where the slot holds a real negative.
    public let negativeIsValid: Tensor

    public init(positives: TextBatch, negatives: TextBatch, negativeIsValid: Tensor) throws {
        let b = positives.count
        guard negativeIsValid.rank == 2, negativeIsValid.size(0) == b, negatives.count == b * negativeIsValid.size(1) else {
            throw ModelError.invalidInput(name: "rewrites", reason: "\(b) positives, \(negatives.count) negatives and a validity mask \(negativeIsValid.shape) do not fit [B, K]")
        }
        (self.positives, self.negatives, self.negativeIsValid) = (positives, negatives, negativeIsValid)
    }

    /// Negative slots per sample (K).
    public var negativesPerSample: Int { negativeIsValid.size(1) }

    /// The prepared rewrites of a batch's samples, in batch order; every sample must have as
    /// many negative slots as the first.
    init(_ prepared: [SampleTransform.PreparedRewrites], sampleIDs: [String]) throws {
        func rows(_ texts: [TokenizedText]) throws -> TextBatch {
            try TextBatch(rows: texts.map(\.ids), attentionMask: texts.map(\.attentionMask), tokenTypeIDs: texts.map(\.tokenTypeIDs), masked: nil)
        }
        let k = prepared.first?.negatives.count ?? 0
        for (i, sample) in prepared.enumerated() where sample.negatives.count != k {
            throw DatasetError.invalidArgument("batch assembly: sample \(sampleIDs[i]) has \(sample.negatives.count) rewritten negatives, \(sampleIDs[0]) \(k)")
        }
        try self.init(positives: try rows(prepared.map(\.positive)), negatives: try rows(prepared.flatMap(\.negatives)),
                      negativeIsValid: try Tensor(prepared.flatMap(\.negativeIsValid), shape: [prepared.count, k]))
    }

    public func to(device: Device) throws -> RewriteBatch {
        try RewriteBatch(positives: positives.to(device: device), negatives: negatives.to(device: device),
                         negativeIsValid: negativeIsValid.to(device: device))
    }
}
