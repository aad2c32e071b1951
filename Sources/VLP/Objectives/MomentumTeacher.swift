import Torch

/// The momentum teacher of R2D2's distillation (TgD, FgD; ALBEF's momentum model): a frozen
/// copy of the towers that follows the student by EMA after every optimizer step, and the queue
/// of its past features that TgD's soft targets also range over.
///
/// Every forward's teacher features enter the queue as soon as that forward's loss is computed
/// (`remember`), as ALBEF enqueues inside each forward: with gradient accumulation each
/// micro-batch is remembered, and later micro-batches of the same step already see earlier ones
/// as queue entries. Nothing waits between calls, so nothing can be lost between them.
public final class MomentumTeacher {
    public let towers: DualEncoder
    public let queue: DistillationQueue
    /// EMA momentum (R2D2 / ALBEF use 0.995).
    public var momentum: Double

    public init(copying student: DualEncoder, queueCapacity: Int, momentum: Double) throws {
        towers = try student.frozenCopy()
        queue = DistillationQueue(capacity: queueCapacity)
        self.momentum = momentum
    }

    /// The teacher's image and text features of a batch, without gradient.
    public func features(images: Tensor, inputIDs: Tensor, attentionMask: Tensor) throws -> (images: Tensor, texts: Tensor) {
        try withNoGrad {
            (try towers.encodeImages(images).features, try towers.encodeTexts(inputIDs, attentionMask: attentionMask).features)
        }
    }

    /// Puts one forward's teacher features (every worker's, when gathered) into the queue.
    public func remember(images: Tensor, texts: Tensor, imageIDs: Tensor) throws {
        try queue.enqueue(imageFeatures: images, textFeatures: texts, imageIDs: imageIDs)
    }

    /// Moves the teacher towards the student (EMA), once per optimizer step.
    public func follow(_ student: DualEncoder) throws {
        try ExponentialMovingAverage.update(teacher: towers, student: student, momentum: momentum)
    }

    /// Teacher weights under `teacher.` and the queue under `queue.`, for checkpoints.
    public func stateDict() -> [String: Tensor] {
        var state: [String: Tensor] = [:]
        for (k, v) in queue.stateDict() { state["queue.\(k)"] = v }
        for (k, v) in towers.stateDict() { state["teacher.\(k)"] = v }
        return state
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        try queue.loadStateDict(CheckpointFile.selecting(prefix: "queue.", from: state).selected)
        _ = try towers.loadStateDict(CheckpointFile.selecting(prefix: "teacher.", from: state).selected, source: "checkpoint teacher")
    }
}
