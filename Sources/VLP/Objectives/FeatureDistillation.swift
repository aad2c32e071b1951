import Torch

/// FgD, R2D2's feature-guided distillation: the teacher encodes the full input, the student a
/// masked one (text tokens or image patches); both features become distributions by a softmax
/// with temperatures, and the loss is their cross-entropy averaged over rows:
///
///   L = −mean_i Σ_d softmax(t_i / τ_t)_d · log softmax(s_i / τ_s)_d
public struct FeatureDistillation {
    public var teacherTemperature: Double
    public var studentTemperature: Double

    public init(teacherTemperature: Double = 0.04, studentTemperature: Double = 0.1) {
        self.teacherTemperature = teacherTemperature
        self.studentTemperature = studentTemperature
    }

    public func callAsFunction(student: Tensor, teacher: Tensor) throws -> Tensor {
        let targets = try withNoGrad { try (teacher.detached() / teacherTemperature).softmax(dim: -1) }
        return try -(targets * (student / studentTemperature).logSoftmax(dim: -1)).sum(dim: -1).mean()
    }
}
