import Foundation
import Torch

// The sections of a run that group several keys (`optimizer:`, `schedule:`, `checkpoint:`,
// `evaluation:`, `distillation:`) and the towers `lock:` names. Each initialiser's arguments
// are the defaults.
extension PretrainingRun {
    /// AdamW's settings.
    public struct OptimizerSettings: Equatable, Sendable {
        public var learningRate: Double
        public var weightDecay: Double
        public var betas: (Double, Double)
        public var eps: Double
        /// Gradient-norm clipping; 0 turns it off.
        public var clipNorm: Double

        public init(learningRate: Double = 5e-4, weightDecay: Double = 0.05, betas: (Double, Double) = (0.9, 0.98),
                    eps: Double = 1e-6, clipNorm: Double = 1.0) {
            self.learningRate = learningRate
            self.weightDecay = weightDecay
            self.betas = betas
            self.eps = eps
            self.clipNorm = clipNorm
        }

        public static func == (a: Self, b: Self) -> Bool {
            a.learningRate == b.learningRate && a.weightDecay == b.weightDecay && a.betas == b.betas
                && a.eps == b.eps && a.clipNorm == b.clipNorm
        }
    }

    /// The learning rate over the run: linear warm-up, then a shape.
    public struct Schedule: Equatable, Sendable {
        public enum Shape: String, CaseIterable, Sendable {
            /// Cosine decay to `minimumLearningRate`.
            case cosine
            /// Linear decay to 0.
            case linear
            /// The peak rate after warm-up.
            case constant
        }

        public var shape: Shape
        /// nil: a tenth of the run, at most 100 (`PretrainingRun.warmupSteps`).
        public var warmupSteps: Int?
        /// Where the cosine ends.
        public var minimumLearningRate: Double

        public init(shape: Shape = .cosine, warmupSteps: Int? = nil, minimumLearningRate: Double = 0) {
            self.shape = shape
            self.warmupSteps = warmupSteps
            self.minimumLearningRate = minimumLearningRate
        }
    }

    /// Checkpoints in `OUTPUT/checkpoints`.
    public struct Checkpoints: Equatable, Sendable {
        /// nil: a quarter of the run (`PretrainingRun.checkpointEvery`).
        public var every: Int?
        /// The newest `keep` stay; older ones are removed.
        public var keep: Int

        public init(every: Int? = nil, keep: Int = 2) {
            self.every = every
            self.keep = keep
        }
    }

    /// Periodic retrieval evaluation during the run.
    public struct Evaluation: Equatable, Sendable {
        /// Steps between evaluations, and at the run's end (0: none).
        public var every: Int
        /// The evaluation set, read like a training `data:` section.
        public var data: TrainingDataDescription?

        public init(every: Int = 0, data: TrainingDataDescription? = nil) {
            self.every = every
            self.data = data
        }
    }

    /// Two-way distillation (TgD + FgD) settings.
    public struct Distillation: Equatable, Sendable {
        /// Teacher features kept for TgD.
        public var queue: Int
        /// The EMA teacher's momentum.
        public var momentum: Double
        /// Fraction of image patches the FgD student sees masked.
        public var patchMaskRatio: Double

        public init(queue: Int = 256, momentum: Double = 0.995, patchMaskRatio: Double = 0.3) {
            self.queue = queue
            self.momentum = momentum
            self.patchMaskRatio = patchMaskRatio
        }
    }

    /// The precision of the forward pass (`precision:`).
    public enum Precision: String, CaseIterable, Sendable {
        case fp32, bf16, fp16

        /// The dtype autocast computes in; nil for plain fp32.
        public var autocastType: DType? {
            switch self {
            case .fp32: return nil
            case .bf16: return .bfloat16
            case .fp16: return .float16
            }
        }

        /// Whether gradients need dynamic loss scaling (fp16's narrow range).
        public var scalesLoss: Bool { self == .fp16 }
    }

    /// A tower of a two-tower model, as `lock:` names it.
    public enum Tower: String, CaseIterable, Comparable, Sendable {
        case image, text

        public static func < (a: Tower, b: Tower) -> Bool { a.rawValue < b.rawValue }
    }
}
