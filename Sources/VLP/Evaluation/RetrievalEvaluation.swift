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
    public var rankingSeconds: Double
    public var rerankSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case ranking = "retrieval", reranked = "retrieval_reranked", rerankTopK = "rerank_top_k"
        case rankingSeconds = "retrieval_seconds", rerankSeconds = "rerank_seconds"
    }

    public static func run(_ model: PretrainingModel, on set: EvaluationSet, rerankTopK: Int = 10, rerankWeight: Double = 1,
                           encoded: EncodedSet? = nil) throws -> RetrievalEvaluation {
        let start = Date()
        guard let encoded = try encoded ?? ModelScoring.encode(model, set) else {
            // Single stream: every pair through ITM.
            let pairs = (0..<set.imageCount).flatMap { i in (0..<set.texts.count).map { (image: i, text: $0) } }
            let scores = try ModelScoring.matchProbabilities(model, set, nil, pairs: pairs)
            let result = try RetrievalMetrics.compute(similarity: scores, images: set.imageCount, texts: set.texts.count, textImage: set.textImage)
            return RetrievalEvaluation(ranking: result, reranked: nil, rerankTopK: 0, rankingSeconds: Date().timeIntervalSince(start), rerankSeconds: nil)
        }
        let similarity = try encoded.similarity().to(.float32).floats()
        let (n, t) = (set.imageCount, set.texts.count)
        let ranking = try RetrievalMetrics.compute(similarity: similarity, images: n, texts: t, textImage: set.textImage)
        let rankingSeconds = Date().timeIntervalSince(start)
        guard rerankTopK > 0, model.hasMatchHead else {
            return RetrievalEvaluation(ranking: ranking, reranked: nil, rerankTopK: 0, rankingSeconds: rankingSeconds, rerankSeconds: nil)
        }
        let rerankStart = Date()
        var transposed = [Float](repeating: 0, count: n * t)
        for i in 0..<n { for j in 0..<t { transposed[j * n + i] = similarity[i * t + j] } }
        let imageTop = RetrievalMetrics.topK(similarity, rows: n, columns: t, k: rerankTopK)
        let textTop = RetrievalMetrics.topK(transposed, rows: t, columns: n, k: rerankTopK)
        let pairs = imageTop.enumerated().flatMap { i, texts in texts.map { (image: i, text: $0) } }
            + textTop.enumerated().flatMap { j, images in images.map { (image: $0, text: j) } }
        let probabilities = try ModelScoring.matchProbabilities(model, set, encoded, pairs: pairs)
        var cursor = 0
        let weight = Float(rerankWeight)
        func rerank(_ top: [Int], row: Int, score: (Int) -> Float) -> [Int] {
            let scored = top.map { candidate -> (Int, Float) in
                defer { cursor += 1 }
                return (candidate, score(candidate) + weight * probabilities[cursor])
            }
            return scored.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.map(\.0)
        }
        let imageRankings = imageTop.enumerated().map { i, top in rerank(top, row: i) { similarity[i * t + $0] } }
        let textRankings = textTop.enumerated().map { j, top in rerank(top, row: j) { similarity[$0 * t + j] } }
        var textsOfImage = [Set<Int>](repeating: [], count: n)
        for (j, i) in set.textImage.enumerated() { textsOfImage[i].insert(j) }
        let i2t = try RetrievalMetrics.recall(rankings: imageRankings, relevant: textsOfImage)
        let t2i = try RetrievalMetrics.recall(rankings: textRankings, relevant: set.textImage.map { [$0] })
        return RetrievalEvaluation(ranking: ranking, reranked: RetrievalResult(i2t: i2t, t2i: t2i), rerankTopK: rerankTopK,
                                   rankingSeconds: rankingSeconds, rerankSeconds: Date().timeIntervalSince(rerankStart))
    }

    /// `r1_i2t`, …, `rmean` (and `rerank_rmean`) for metrics.jsonl.
    public func flatMetrics() -> [String: Double] {
        var out: [String: Double] = ["i2t_r1": ranking.i2t.r1, "i2t_r5": ranking.i2t.r5, "i2t_r10": ranking.i2t.r10,
                                     "t2i_r1": ranking.t2i.r1, "t2i_r5": ranking.t2i.r5, "t2i_r10": ranking.t2i.r10, "rmean": ranking.rmean]
        if let reranked { out["rerank_rmean"] = reranked.rmean }
        return out
    }
}
