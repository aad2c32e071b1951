import Foundation
import Torch

// The sections of a run that group several keys (`optimizer:`, `schedule:`, `checkpoint:`,
// `evaluation:`, `distillation:`, `lora:`), the towers `lock:` names and how `freeze:` freezes them. Each initialiser's arguments
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
        /// Layer-wise learning-rate decay (BEiT, OpenCLIP fine-tuning): a tower parameter at depth d
        /// of L blocks (0 the embeddings, i + 1 block i, L + 1 what follows the last block) trains
        /// at the learning rate × `layerDecay`^(L + 1 − d); the parts outside the towers
        /// (projections, temperature, cross encoders, heads) at the full rate. 1 turns it off.
        public var layerDecay: Double

        public init(learningRate: Double = 5e-4, weightDecay: Double = 0.05, betas: (Double, Double) = (0.9, 0.98),
                    eps: Double = 1e-6, clipNorm: Double = 1.0, layerDecay: Double = 1) {
            self.learningRate = learningRate
            self.weightDecay = weightDecay
            self.betas = betas
            self.eps = eps
            self.clipNorm = clipNorm
            self.layerDecay = layerDecay
        }

        public static func == (a: Self, b: Self) -> Bool {
            a.learningRate == b.learningRate && a.weightDecay == b.weightDecay && a.betas == b.betas
                && a.eps == b.eps && a.clipNorm == b.clipNorm && a.layerDecay == b.layerDecay
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
        /// TgD's weight α of the teacher's distribution in the soft targets.
        public var alpha: Double
        /// Steps over which α rises linearly from 0 (ALBEF ramps it over the first epoch, while
        /// the teacher is still close to its random start); 0 uses α from the first step.
        public var alphaRampSteps: Int

        public init(queue: Int = 256, momentum: Double = 0.995, patchMaskRatio: Double = 0.3, alpha: Double = 0.4, alphaRampSteps: Int = 0) {
            self.queue = queue
            self.momentum = momentum
            self.patchMaskRatio = patchMaskRatio
            self.alpha = alpha
            self.alphaRampSteps = alphaRampSteps
        }

        /// α at optimizer step `step` (0-based): α · min(1, (step + 1) / ramp).
        public func alpha(atStep step: Int) -> Double {
            guard alphaRampSteps > 0 else { return alpha }
            return alpha * min(1, Double(step + 1) / Double(alphaRampSteps))
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

    /// How much of a tower `freeze:` keeps fixed.
    public enum Freezing: Equatable, Sendable {
        /// The whole tower (`all`; LiT's `lock:`), kept in eval mode.
        case all
        /// Everything before the last `blocks` blocks (`{except_last: N}`): the embeddings and
        /// the earlier blocks stay; the last N blocks and what follows them (the final norm, a
        /// pooler) train — OpenCLIP's `lock_image_unlocked_groups` / `lock_text_unlocked_layers`.
        case allButLast(blocks: Int)
    }

    /// Low-rank adapters (LoRA) on the attention and MLP projections of every block that is not
    /// frozen (towers, cross encoders, a single-stream encoder). Every other weight is frozen:
    /// only the adapters train, as with Hugging Face PEFT. The defaults are PEFT's `LoraConfig`'s
    /// (r 8, alpha 8, no dropout) with the LoRA paper's targets (query and value).
    public struct LoRA: Equatable, Sendable {
        /// A projection that can carry an adapter.
        public enum Target: String, CaseIterable, Comparable, Sendable {
            /// Attention's query, key and value projections (`q_proj`, `k_proj`, `v_proj`; BERT's `query`, `key`, `value`).
            case query, key, value
            /// Attention's output projection (`out_proj`; BERT's `attention.output.dense`).
            case output
            /// Both linears of the feed-forward block (`mlp.fc1`, `mlp.fc2`; BERT's `intermediate.dense`, `output.dense`).
            case mlp

            public static func < (a: Target, b: Target) -> Bool {
                allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
            }
        }

        /// A part trained whole beside the adapters (PEFT's `modules_to_save`): what a low-rank
        /// update of the blocks cannot stand in for, e.g. a new task's heads.
        public enum WholePart: String, CaseIterable, Comparable, Sendable {
            /// The towers' contrastive projections (`text_projection`, `visual_projection`).
            case projections
            /// The learned temperature (`temperature.logit_scale`).
            case temperature
            /// The match heads: R2D2's `text_match_head` / `image_match_head`, the single stream's `match_head`.
            case matchHeads = "match_heads"
            /// The masked-language head (`mlm_head`).
            case mlmHead = "mlm_head"

            public static func < (a: WholePart, b: WholePart) -> Bool {
                allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
            }

            /// Whether the parameter `name` (a key of the whole model) belongs to this part.
            func contains(parameter name: String) -> Bool {
                let parts = name.split(separator: ".").map(String.init)
                switch self {
                case .projections: return parts.contains("text_projection") || parts.contains("visual_projection")
                case .temperature: return parts.contains("temperature")
                case .matchHeads: return ["text_match_head", "image_match_head", "match_head"].contains(parts.first ?? "")
                case .mlmHead: return parts.first == "mlm_head"
                }
            }
        }

        /// r, the rank of B·A.
        public var rank: Int
        /// The update is scaled by alpha / r.
        public var alpha: Double
        /// Dropout on each adapter's input while training.
        public var dropout: Double
        public var targets: Set<Target>
        /// Parts that train whole beside the adapters (YAML `also_train`; none by default).
        public var alsoTrain: Set<WholePart>

        public init(rank: Int = 8, alpha: Double = 8, dropout: Double = 0, targets: Set<Target> = [.query, .value],
                    alsoTrain: Set<WholePart> = []) {
            self.rank = rank
            self.alpha = alpha
            self.dropout = dropout
            self.targets = targets
            self.alsoTrain = alsoTrain
        }
    }

    /// A tower of a two-tower model, as `lock:` names it.
    public enum Tower: String, CaseIterable, Comparable, Sendable {
        case image, text

        public static func < (a: Tower, b: Tower) -> Bool { a.rawValue < b.rawValue }
    }
}
