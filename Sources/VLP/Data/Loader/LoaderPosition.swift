import Foundation

/// Where a loader stands, enough to restart it exactly: a loader started from a saved position
/// yields the very batches the uninterrupted one would have yielded next.
///
/// `samplesConsumed` counts positions of this rank's sample stream in the epoch (see
/// `ShardAssignment`), bad samples included, up to and including the last sample of the last
/// batch handed out. Resuming re-reads the epoch's records up to that point without decoding
/// them (the shuffle buffer must see them to be in the same state), then carries on.
///
/// Saved with a checkpoint as JSON (`Codable`); `seed` travels with it so that a resumed run
/// cannot silently use another shuffle.
public struct LoaderPosition: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Seeds the shard order, the shuffle buffer and every per-sample draw (text choice,
    /// augmentation, masking).
    public var seed: UInt64
    /// 0-based epoch.
    public var epoch: Int
    /// Stream positions of this epoch already used (see above).
    public var samplesConsumed: Int
    /// Batches handed out in this epoch (for progress and logs; resuming does not rely on it).
    public var batchesInEpoch: Int

    public init(seed: UInt64, epoch: Int = 0, samplesConsumed: Int = 0, batchesInEpoch: Int = 0) {
        self.seed = seed
        self.epoch = epoch
        self.samplesConsumed = samplesConsumed
        self.batchesInEpoch = batchesInEpoch
    }

    /// The start of the following epoch.
    public var startOfNextEpoch: LoaderPosition {
        LoaderPosition(seed: seed, epoch: epoch + 1)
    }

    /// Checks the values a hand-edited or corrupted file could get wrong.
    func validated() throws -> LoaderPosition {
        guard epoch >= 0, samplesConsumed >= 0, batchesInEpoch >= 0 else {
            throw DatasetError.invalidArgument("loader position \(self): epoch, samples and batches must not be negative")
        }
        return self
    }

    public var description: String {
        "epoch \(epoch), \(samplesConsumed) samples (\(batchesInEpoch) batches) consumed, seed \(seed)"
    }
}
