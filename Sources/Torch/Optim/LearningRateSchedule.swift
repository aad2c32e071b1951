import Foundation

/// A learning rate as a function of the step (0-based), as mlx-swift and optax shape them.
public typealias LearningRateSchedule = (Int) -> Double

public enum LearningRateSchedules {
    public static func constant(_ value: Double) -> LearningRateSchedule { { _ in value } }

    /// Linear warm-up from 0 to `peak` over `warmupSteps`, then cosine decay to `minimum` at
    /// `totalSteps` (held there after).
    public static func warmupCosine(peak: Double, warmupSteps: Int, totalSteps: Int, minimum: Double = 0) -> LearningRateSchedule {
        { step in
            if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps) }
            let span = max(1, totalSteps - warmupSteps)
            let progress = min(1, Double(step - warmupSteps) / Double(span))
            return minimum + (peak - minimum) * 0.5 * (1 + cos(Double.pi * progress))
        }
    }

    /// Linear warm-up then linear decay to zero at `totalSteps` (BERT's schedule).
    public static func warmupLinear(peak: Double, warmupSteps: Int, totalSteps: Int) -> LearningRateSchedule {
        { step in
            if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps) }
            return peak * max(0, Double(totalSteps - step) / Double(max(1, totalSteps - warmupSteps)))
        }
    }
}
