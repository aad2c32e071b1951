import Foundation
import Torch

/// The contrastive temperature τ, learned as CLIP does through `logit_scale = log(1/τ)`,
/// initialised at τ = 0.07 and clamped to τ ∈ [0.001, 0.5] (DESIGN.md §1).
public final class LearnedTemperature: Module {
    @Parameter(key: "logit_scale") public var logScale: Tensor
    public let minimum: Double
    public let maximum: Double

    public init(initial: Double = 0.07, minimum: Double = 0.001, maximum: Double = 0.5) throws {
        self.minimum = minimum
        self.maximum = maximum
        _logScale.wrappedValue = try Tensor(scalar: Foundation.log(1 / initial))
        super.init()
    }

    /// 1/τ, clamped; gradients flow to `logScale` inside the clamp range.
    public func scale() throws -> Tensor {
        try logScale.exp().clamp(min: 1 / maximum, max: 1 / minimum)
    }
}
