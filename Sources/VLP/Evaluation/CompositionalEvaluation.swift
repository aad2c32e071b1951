import Foundation
import Torch

/// How often a model scores an image's true caption above each rewritten hard negative of it
/// (attribute, relation, object, count changed), by the towers' similarity and by the match
/// head. A negative is compared with the image's first positive text in the same language.
/// The set must include negatives (`EvaluationSet.load(..., includeNegatives: true)`).
///
/// A pair whose two texts are the same tokens once cut to the context length (a long Chinese
/// title whose rewritten relation clause falls past the cut) cannot be told apart by any model;
/// such pairs are left out and counted in `indistinguishable`, not scored as losses.
public struct CompositionalEvaluation: Codable, Sendable {
    /// By the towers' similarity (nil for the single-stream model).
    public var dualEncoder: CompositionalResult?
    /// By the match head (nil for the dual encoder).
    public var matchHead: CompositionalResult?
    /// `RewriteKind.rawValue` → pairs left out because both texts tokenize the same after the cut.
    public var indistinguishable: [String: Int] = [:]

    enum CodingKeys: String, CodingKey {
        case dualEncoder = "dual_encoder", matchHead = "match_head", indistinguishable
    }

    public init(dualEncoder: CompositionalResult?, matchHead: CompositionalResult?, indistinguishable: [String: Int] = [:]) {
        self.dualEncoder = dualEncoder
        self.matchHead = matchHead
        self.indistinguishable = indistinguishable
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dualEncoder = try c.decodeIfPresent(CompositionalResult.self, forKey: .dualEncoder)
        matchHead = try c.decodeIfPresent(CompositionalResult.self, forKey: .matchHead)
        indistinguishable = try c.decodeIfPresent([String: Int].self, forKey: .indistinguishable) ?? [:]
    }

    public static func run(_ model: PretrainingModel, on set: EvaluationSet) throws -> CompositionalEvaluation {
        var positiveOf: [String: Int] = [:]
        for j in set.texts.indices where set.rewriteKinds[j] == nil && set.labels[j] == 1 {
            let key = "\(set.textImage[j])|\(set.textLanguages[j] ?? "")"
            if positiveOf[key] == nil { positiveOf[key] = j }
        }
        let ids = try set.inputIDs.to(.int64).toArray(Int64.self)
        let width = set.inputIDs.shape.last ?? 0
        func sameTokens(_ a: Int, _ b: Int) -> Bool { ids[(a * width)..<((a + 1) * width)] == ids[(b * width)..<((b + 1) * width)] }
        var triples: [(kind: RewriteKind, positive: Int, negative: Int)] = []
        var indistinguishable: [String: Int] = [:]
        for j in set.texts.indices {
            guard let kind = set.rewriteKinds[j], let p = positiveOf["\(set.textImage[j])|\(set.textLanguages[j] ?? "")"] else { continue }
            if sameTokens(p, j) {
                indistinguishable[kind.rawValue, default: 0] += 1
                continue
            }
            triples.append((kind, p, j))
        }
        guard !triples.isEmpty else { throw EvaluationError.empty("the set's hard negatives (load it with includeNegatives)") }
        let encoded = try ModelScoring.encode(model, set)
        var dual: CompositionalResult?
        if let encoded {
            let similarity = try encoded.similarity().to(.float64)
            let values = try similarity.toArray(Double.self)
            let t = set.texts.count
            dual = try CompositionalAccuracy.compute(triples.map { triple in
                let image = set.textImage[triple.positive]
                return (kind: triple.kind, positiveScore: values[image * t + triple.positive], negativeScore: values[image * t + triple.negative])
            })
        }
        var head: CompositionalResult?
        if model.hasMatchHead {
            let texts = Array(Set(triples.flatMap { [$0.positive, $0.negative] })).sorted()
            let probabilities = try ModelScoring.matchProbabilities(model, set, encoded, pairs: texts.map { (image: set.textImage[$0], text: $0) })
            let byText = Dictionary(uniqueKeysWithValues: zip(texts, probabilities.map(Double.init)))
            head = try CompositionalAccuracy.compute(triples.map {
                (kind: $0.kind, positiveScore: byText[$0.positive]!, negativeScore: byText[$0.negative]!)
            })
        }
        return CompositionalEvaluation(dualEncoder: dual, matchHead: head, indistinguishable: indistinguishable)
    }
}
