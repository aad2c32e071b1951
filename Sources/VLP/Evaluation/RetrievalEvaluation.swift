import Foundation
import Torch

/// Image→text and text→image retrieval of a model on a set: ranking by the towers'
/// similarity, and two-stage ranking in which the cross encoders re-rank each query's top k by
/// similarity + w · mean match probability (DESIGN.md §1; w is the bundle's `rerank_weight`, 1 as
/// R2D2's code sums them). The single-stream model has no towers: its ranking scores every pair
/// with ITM.
public struct RetrievalEvaluation: Codable, Sendable {
    public var ranking: RetrievalResult
    public var reranked: RetrievalResult?
    public var rerankTopK: Int
    /// The weight w of the two-stage score `reranked` ranks by (nil without re-ranking).
    public var rerankWeight: Double?
    /// Two-stage results for other scores of the same top k (`rerankWeights`), when asked for.
    public var sweep: [RerankSweepPoint]?
    public var rankingSeconds: Double
    public var rerankSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case ranking = "retrieval", reranked = "retrieval_reranked", rerankTopK = "rerank_top_k", rerankWeight = "rerank_weight", sweep
        case rankingSeconds = "retrieval_seconds", rerankSeconds = "rerank_seconds"
    }

    /// The weights tried when a sweep is asked for without a list (R2D2's own sum is w = 1).
    public static let defaultSweepWeights: [Double] = [0, 0.01, 0.03, 0.1, 0.3, 1, 3]

    /// - Parameters:
    ///   - rerankWeight: w of the two-stage score similarity + w · p that `reranked` reports.
    ///   - rerankWeights: more values of w to report in `sweep` (each re-orders the same top k
    ///     with the same match probabilities, so the sweep costs no further forward), plus the
    ///     top k ordered by p alone.
    public static func run(_ model: PretrainingModel, on set: EvaluationSet, rerankTopK: Int = 10, rerankWeight: Double = 1,
                           rerankWeights: [Double] = [], encoded: EncodedSet? = nil) throws -> RetrievalEvaluation {
        let start = Date()
        guard let encoded = try encoded ?? ModelScoring.encode(model, set) else {
            // Single stream: every pair through ITM.
            let pairs = (0..<set.imageCount).flatMap { i in (0..<set.texts.count).map { (image: i, text: $0) } }
            let scores = try ModelScoring.matchProbabilities(model, set, nil, pairs: pairs)
            let result = try RetrievalMetrics.compute(similarity: scores, images: set.imageCount, texts: set.texts.count, textImage: set.textImage)
            return RetrievalEvaluation(ranking: result, reranked: nil, rerankTopK: 0, rerankWeight: nil, sweep: nil,
                                       rankingSeconds: Date().timeIntervalSince(start), rerankSeconds: nil)
        }
        let similarity = try encoded.similarity().to(.float32).floats()
        let (n, t) = (set.imageCount, set.texts.count)
        let ranking = try RetrievalMetrics.compute(similarity: similarity, images: n, texts: t, textImage: set.textImage)
        let rankingSeconds = Date().timeIntervalSince(start)
        guard rerankTopK > 0, model.hasMatchHead else {
            return RetrievalEvaluation(ranking: ranking, reranked: nil, rerankTopK: 0, rerankWeight: nil, sweep: nil,
                                       rankingSeconds: rankingSeconds, rerankSeconds: nil)
        }
        let rerankStart = Date()
        let candidates = try RerankCandidates(model, set, encoded, similarity: similarity, topK: rerankTopK)
        let reranked = try candidates.result(.weighted(rerankWeight))
        let seconds = Date().timeIntervalSince(rerankStart)
        let sweep = rerankWeights.isEmpty ? nil
            : try (rerankWeights.map(RerankScore.weighted) + [.matchOnly]).map { RerankSweepPoint(score: $0, result: try candidates.result($0)) }
        return RetrievalEvaluation(ranking: ranking, reranked: reranked, rerankTopK: rerankTopK, rerankWeight: rerankWeight, sweep: sweep,
                                   rankingSeconds: rankingSeconds, rerankSeconds: seconds)
    }

    /// R2D2's re-ranking weight λ chosen on `set` (a validation split, never the test split): the
    /// weight of `weights` whose two-stage score cos + λ·p gives the best R@M over each query's
    /// top `topK` (the smallest on a tie; 0, the first stage's own order, is among the defaults,
    /// so the chosen score is never worse than the cosine on `set`), with that sweep's result.
    public static func chooseRerankWeight(_ model: PretrainingModel, on set: EvaluationSet, topK: Int = 10,
                                          weights: [Double] = defaultSweepWeights) throws -> (weight: Double, evaluation: RetrievalEvaluation) {
        let evaluation = try run(model, on: set, rerankTopK: topK, rerankWeights: weights)
        guard let best = evaluation.bestSweptWeight else {
            throw EvaluationError.empty("a re-ranking weight: the model has no cross encoders, or no weight was given")
        }
        return (best.weight, evaluation)
    }

    /// What `chooseRerankWeight` chose, for a log: "rerank_weight λ = 0.1 chosen on SET (100
    /// images): two-stage R@M 67.10, first stage 65.80".
    public static func describeChoice(_ weight: Double, _ evaluation: RetrievalEvaluation, on set: EvaluationSet) -> String {
        String(format: "rerank_weight λ = %@ chosen on %@ (%d images): two-stage R@M %.2f, first stage %.2f", RerankScore.number(weight),
               set.name, set.imageCount, evaluation.bestSweptWeight?.result.rmean ?? .nan, evaluation.ranking.rmean)
    }

    /// The swept weight with the best two-stage R@M (the smallest such w on a tie: the least
    /// the match heads may overrule the similarity); nil without a sweep.
    public var bestSweptWeight: (weight: Double, result: RetrievalResult)? {
        var best: (weight: Double, result: RetrievalResult)?
        for point in sweep ?? [] {
            guard case .weighted(let w) = point.score else { continue }
            if best == nil || point.result.rmean > best!.result.rmean || (point.result.rmean == best!.result.rmean && w < best!.weight) {
                best = (w, point.result)
            }
        }
        return best
    }

    /// `r1_i2t`, …, `rmean` (and `rerank_rmean`) for metrics.jsonl.
    public func flatMetrics() -> [String: Double] {
        var out: [String: Double] = ["i2t_r1": ranking.i2t.r1, "i2t_r5": ranking.i2t.r5, "i2t_r10": ranking.i2t.r10,
                                     "t2i_r1": ranking.t2i.r1, "t2i_r5": ranking.t2i.r5, "t2i_r10": ranking.t2i.r10, "rmean": ranking.rmean]
        if let reranked { out["rerank_rmean"] = reranked.rmean }
        return out
    }
}

/// How the second stage scores a candidate of a query's top k: similarity + w · p, or the mean
/// match probability p alone.
public enum RerankScore: Codable, Equatable, Sendable {
    case weighted(Double)
    case matchOnly

    /// "cos + 0.1·p", "cos" (w = 0), "p".
    public var formula: String {
        switch self {
        case .weighted(let w): return w == 0 ? "cos" : "cos + \(Self.number(w))·p"
        case .matchOnly: return "p"
        }
    }

    /// A weight as written in formulas: "1", "0.03".
    public static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// JSON: the weight, or the string "p" for the match probability alone.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let w = try? container.decode(Double.self) {
            self = .weighted(w)
            return
        }
        let text = try container.decode(String.self)
        guard text == "p" else { throw DecodingError.dataCorruptedError(in: container, debugDescription: "a rerank score is a weight or \"p\", not \"\(text)\"") }
        self = .matchOnly
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .weighted(let w): try container.encode(w)
        case .matchOnly: try container.encode("p")
        }
    }
}

/// One score of a sweep and the two-stage retrieval it gives.
public struct RerankSweepPoint: Codable, Sendable {
    public var score: RerankScore
    public var result: RetrievalResult
}

/// Each query's top k by similarity with the match probabilities of its pairs, computed once;
/// any score then re-orders them without another forward.
struct RerankCandidates {
    let similarity: [Float]
    let images: Int, texts: Int
    let imageTop: [[Int]], textTop: [[Int]]
    /// The pairs' mean match probabilities: every image's top texts, then every text's top images.
    let probabilities: [Float]
    let textsOfImage: [Set<Int>]
    let textImage: [Int]

    init(_ model: PretrainingModel, _ set: EvaluationSet, _ encoded: EncodedSet, similarity: [Float], topK: Int) throws {
        let (n, t) = (set.imageCount, set.texts.count)
        var transposed = [Float](repeating: 0, count: n * t)
        for i in 0..<n { for j in 0..<t { transposed[j * n + i] = similarity[i * t + j] } }
        imageTop = RetrievalMetrics.topK(similarity, rows: n, columns: t, k: topK)
        textTop = RetrievalMetrics.topK(transposed, rows: t, columns: n, k: topK)
        let pairs = imageTop.enumerated().flatMap { i, texts in texts.map { (image: i, text: $0) } }
            + textTop.enumerated().flatMap { j, images in images.map { (image: $0, text: j) } }
        probabilities = try ModelScoring.matchProbabilities(model, set, encoded, pairs: pairs)
        var textsOfImage = [Set<Int>](repeating: [], count: n)
        for (j, i) in set.textImage.enumerated() { textsOfImage[i].insert(j) }
        (self.similarity, images, texts, self.textsOfImage, textImage) = (similarity, n, t, textsOfImage, set.textImage)
    }

    /// Retrieval with every top k re-ordered by `score` (ties: the lower index first).
    func result(_ score: RerankScore) throws -> RetrievalResult {
        var cursor = 0
        func rerank(_ top: [Int], similarity: (Int) -> Float) -> [Int] {
            let scored = top.map { candidate -> (Int, Float) in
                defer { cursor += 1 }
                let p = probabilities[cursor]
                switch score {
                case .weighted(let w): return (candidate, similarity(candidate) + Float(w) * p)
                case .matchOnly: return (candidate, p)
                }
            }
            return scored.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.map(\.0)
        }
        let t = texts
        let imageRankings = imageTop.enumerated().map { i, top in rerank(top) { similarity[i * t + $0] } }
        let textRankings = textTop.enumerated().map { j, top in rerank(top) { similarity[$0 * t + j] } }
        let i2t = try RetrievalMetrics.recall(rankings: imageRankings, relevant: textsOfImage)
        let t2i = try RetrievalMetrics.recall(rankings: textRankings, relevant: textImage.map { [$0] })
        return RetrievalResult(i2t: i2t, t2i: t2i)
    }
}
