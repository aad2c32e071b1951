import Foundation
import Torch

/// How often a model scores an image's true caption above each rewritten hard negative of it
/// (attribute, relation, object, count changed), by the towers' similarity and by the match
/// head. A negative is compared with the image's first positive text in the same language.
/// The set must include negatives (`EvaluationSet.load(..., includeNegatives: true)`).
public struct CompositionalEvaluation: Codable, Sendable {
    /// By the towers' similarity (nil for the single-stream model).
    public var dualEncoder: CompositionalResult?
    /// By the match head (nil for the dual encoder).
    public var matchHead: CompositionalResult?

    enum CodingKeys: String, CodingKey { case dualEncoder = "dual_encoder", matchHead = "match_head" }

    public static func run(_ model: PretrainingModel, on set: EvaluationSet) throws -> CompositionalEvaluation {
        var positiveOf: [String: Int] = [:]
        for j in set.texts.indices where set.rewriteKinds[j] == nil && set.labels[j] == 1 {
            let key = "\(set.textImage[j])|\(set.textLanguages[j] ?? "")"
            if positiveOf[key] == nil { positiveOf[key] = j }
        }
        var triples: [(kind: RewriteKind, positive: Int, negative: Int)] = []
        for j in set.texts.indices {
            guard let kind = set.rewriteKinds[j], let p = positiveOf["\(set.textImage[j])|\(set.textLanguages[j] ?? "")"] else { continue }
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
        if ModelScoring.hasMatchHead(model) {
            let texts = Array(Set(triples.flatMap { [$0.positive, $0.negative] })).sorted()
            let probabilities = try ModelScoring.matchProbabilities(model, set, encoded, pairs: texts.map { (image: set.textImage[$0], text: $0) })
            let byText = Dictionary(uniqueKeysWithValues: zip(texts, probabilities.map(Double.init)))
            head = try CompositionalAccuracy.compute(triples.map {
                (kind: $0.kind, positiveScore: byText[$0.positive]!, negativeScore: byText[$0.negative]!)
            })
        }
        return CompositionalEvaluation(dualEncoder: dual, matchHead: head)
    }
}
