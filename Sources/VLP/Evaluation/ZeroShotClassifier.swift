import Foundation
import Torch

/// Zero-shot classification accuracy of one label set, in percent.
public struct ZeroShotResult: Codable, Equatable, Sendable {
    public var top1: Double
    public var top5: Double
    public var classes: Int
    public var images: Int

    public init(top1: Double, top5: Double, classes: Int, images: Int) {
        self.top1 = top1
        self.top5 = top5
        self.classes = classes
        self.images = images
    }
}

/// A classifier made from class names alone (CLIP / ALIGN zero-shot transfer).
///
/// Prompt ensembling, as in CLIP's ImageNet notebook and Chinese-CLIP's
/// `zero_shot_classifier`: for class c with templates p₁…p_T,
///
///   e_ct = f(fill(p_t, name_c)) / ‖f(fill(p_t, name_c))‖,   w_c = ē_c / ‖ē_c‖,  ē_c = (1/T) Σ_t e_ct,
///
/// where f is the text encoder. An image with feature x then scores
/// `logit_c = (x / ‖x‖) · w_c`, the cosine similarity (no temperature: it changes no ranking).
public struct ZeroShotClassifier {
    public let classNames: [String]
    public let templates: [String]
    /// `[classes, D]`, one unit-norm row w_c per class (float32, or float64 when the encoder
    /// returns float64), on the encoder's device.
    public let classWeights: Tensor

    /// Encodes every class's filled templates with `encodeTexts` (called once per class with
    /// `templates.count` texts, under no-grad) and ensembles them as above.
    ///
    /// - Parameter encodeTexts: texts → `[texts, D]` features (any float dtype and device).
    public init(classNames: [String], templates: [String], encodeTexts: ([String]) throws -> Tensor) throws {
        guard !classNames.isEmpty else { throw EvaluationError.empty("class names") }
        guard !templates.isEmpty else { throw EvaluationError.empty("prompt templates") }
        if let bad = templates.first(where: { !$0.contains(PromptTemplates.placeholder) }) {
            throw EvaluationError.templateWithoutPlaceholder(bad)
        }
        let weights: [Tensor] = try withNoGrad {
            var width: Int?
            return try classNames.map { name in
                let prompts = templates.map { PromptTemplates.fill($0, with: name) }
                let features = try encodeTexts(prompts).detached()
                guard features.rank == 2, features.size(0) == prompts.count, width == nil || features.size(1) == width else {
                    let expected = "[\(prompts.count), \(width.map(String.init) ?? "D")]"
                    throw EvaluationError.badShape("text features of class \"\(name)\"", expected: expected, actual: features.shape)
                }
                guard features.dtype.isFloatingPoint else {
                    throw EvaluationError.notFloatingPoint("text features of class \"\(name)\"", dtype: features.dtype.description)
                }
                width = features.size(1)
                let precise = features.dtype == .float64 ? features : try features.to(.float32)
                let each = try Functional.normalize(precise, dim: -1)
                return try Functional.normalize(each.mean(dim: 0), dim: -1)
            }
        }
        self.init(classNames: classNames, templates: templates, classWeights: try stack(weights, dim: 0))
    }

    /// A classifier from weights computed elsewhere (rows are used as given).
    public init(classNames: [String], templates: [String], classWeights: Tensor) {
        self.classNames = classNames
        self.templates = templates
        self.classWeights = classWeights
    }

    /// `[B, classes]` cosine similarities of `imageFeatures` `[B, D]` (normalised here, moved
    /// to the weights' dtype and device) with every class weight.
    public func logits(imageFeatures: Tensor) throws -> Tensor {
        let width = classWeights.size(1)
        guard imageFeatures.rank == 2, imageFeatures.size(1) == width else {
            throw EvaluationError.badShape("image features", expected: "[B, \(width)]", actual: imageFeatures.shape)
        }
        guard imageFeatures.dtype.isFloatingPoint else {
            throw EvaluationError.notFloatingPoint("image features", dtype: imageFeatures.dtype.description)
        }
        return try withNoGrad {
            let x = try imageFeatures.detached().to(classWeights.dtype, device: classWeights.device)
            return try Functional.normalize(x, dim: -1).matmul(classWeights.transposed(0, 1))
        }
    }

    /// Top-1 and top-5 accuracy of `imageFeatures` `[B, D]` with their class `labels`.
    public func evaluate(imageFeatures: Tensor, labels: [Int]) throws -> ZeroShotResult {
        let scores = try logits(imageFeatures: imageFeatures)
        return ZeroShotResult(top1: try Self.topKAccuracy(logits: scores, labels: labels, k: 1),
                              top5: try Self.topKAccuracy(logits: scores, labels: labels, k: 5),
                              classes: classNames.count, images: labels.count)
    }

    /// The percentage of rows whose label is among the k highest logits:
    ///
    ///   acc@k = 100 · (1/B) Σ_b [rank_b < k],
    ///   rank_b = #{c : ℓ_bc > ℓ_b,y} + #{c < y : ℓ_bc = ℓ_b,y},   y = labels[b],
    ///
    /// so ties go to the lower class index (the retrieval metrics' rule; `torch.topk` leaves
    /// tie order unspecified). `k` above the class count counts every row as a hit.
    ///
    /// - Parameters: `logits` `[B, classes]` floating point without NaN (any device);
    ///   `labels` B class indices.
    public static func topKAccuracy(logits: Tensor, labels: [Int], k: Int) throws -> Double {
        guard logits.rank == 2 else {
            throw EvaluationError.badShape("logits", expected: "[B, classes]", actual: logits.shape)
        }
        guard logits.dtype.isFloatingPoint else {
            throw EvaluationError.notFloatingPoint("logits", dtype: logits.dtype.description)
        }
        let rows = logits.size(0), classes = logits.size(1)
        guard rows > 0 else { throw EvaluationError.empty("logits rows") }
        guard classes > 0 else { throw EvaluationError.empty("classes") }
        guard labels.count == rows else {
            throw EvaluationError.countMismatch("labels (one per logits row)", expected: rows, actual: labels.count)
        }
        guard k >= 1 else { throw EvaluationError.invalidK(k) }
        if let bad = labels.firstIndex(where: { !(0..<classes).contains($0) }) {
            throw EvaluationError.labelOutOfRange(index: bad, label: labels[bad], classes: classes)
        }
        return try withNoGrad {
            let scores = try logits.detached()
            if try scores.isNaN().any() {
                let flat = try scores.isNaN().flattened().to(.int64).argmax().itemInt()
                throw EvaluationError.notANumber("logits", index: flat)
            }
            let label = try Tensor(labels.map(Int64.init), shape: [rows, 1]).to(device: scores.device)
            let labelScore = try scores.gather(dim: 1, label)
            let classIndex = try Tensor.arange(classes, device: scores.device)
            let higher = try scores .> labelScore
            let tiedBefore = try (scores .== labelScore).logicalAnd(classIndex .< label)
            let rank = try higher.sum(dim: 1) + tiedBefore.sum(dim: 1)
            let hits = try (rank .< Double(k)).sum().itemInt()
            return Double(hits) / Double(rows) * 100
        }
    }
}
