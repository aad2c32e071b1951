/// Dynamic loss scaling for float16 training (torch.cuda.amp.GradScaler): the loss is multiplied
/// by `scale` before backward so small float16 gradients do not flush to zero; before the
/// optimizer step the gradients are divided by it again. A step whose gradients hold an inf or a
/// NaN (the scale overflowed float16) is skipped and the scale backs off; after `growthInterval`
/// good steps in a row it grows. bfloat16 has float32's range and needs none of this.
public struct GradientScaler: Equatable, Sendable {
    public private(set) var scale: Double
    /// Good steps since the scale last changed.
    public private(set) var goodSteps: Int
    /// Steps skipped for non-finite gradients over the scaler's life.
    public private(set) var skippedSteps: Int
    public let growthFactor: Double
    public let backoffFactor: Double
    public let growthInterval: Int

    /// PyTorch's defaults: 2¹⁶, ×2 after 2000 good steps, ×0.5 on overflow.
    public init(scale: Double = 65536, growthFactor: Double = 2, backoffFactor: Double = 0.5, growthInterval: Int = 2000) {
        self.scale = scale
        goodSteps = 0
        skippedSteps = 0
        self.growthFactor = growthFactor
        self.backoffFactor = backoffFactor
        self.growthInterval = growthInterval
    }

    /// The loss to call `backward` on.
    public func scaled(_ loss: Tensor) throws -> Tensor { try loss * scale }

    /// Divides the parameters' gradients by the scale in place; returns whether every one is
    /// finite. Call once per optimizer step, after the last backward and before clipping.
    public func unscaleGradients(_ parameters: [Tensor]) throws -> Bool {
        let gradients = parameters.compactMap(\.grad)
        guard !gradients.isEmpty else { return true }
        return try withNoGrad {
            // One sum per gradient and one read: a sum is finite only when every element is.
            let sums = try gradients.map { try $0.sum().to(.float32) }
            let finite = try stack(sums).isFinite().all()
            if finite { for g in gradients { try g.mul_(1 / scale) } }
            return finite
        }
    }

    /// Records the step's outcome: `finite` false skips it and backs off, true may grow the scale.
    public mutating func update(finite: Bool) {
        if finite {
            goodSteps += 1
            if goodSteps == growthInterval {
                scale *= growthFactor
                goodSteps = 0
            }
        } else {
            skippedSteps += 1
            scale *= backoffFactor
            goodSteps = 0
        }
    }

    /// Restores what a checkpoint recorded.
    public mutating func restore(scale: Double, goodSteps: Int, skippedSteps: Int) throws {
        guard scale.isFinite, scale > 0, goodSteps >= 0, skippedSteps >= 0 else {
            throw TorchError("GradientScaler", "cannot restore scale \(scale), good steps \(goodSteps), skipped \(skippedSteps)")
        }
        self.scale = scale
        self.goodSteps = goodSteps
        self.skippedSteps = skippedSteps
    }
}
