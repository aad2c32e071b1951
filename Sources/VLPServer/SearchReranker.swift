import Foundation
import Torch
import VLP

/// R2D2's second stage applied to search results (DESIGN.md §1, two-stage retrieval): the two
/// cross encoders score the query against each of the first stage's candidates, and the
/// candidates are re-ordered by similarity + w · the mean match probability of the two heads —
/// the score `vlp evaluate retrieval --rerank-top-k` ranks by, w the bundle's `rerank_weight`.
/// Only a model with a pair scorer (R2D2's cross encoders) re-ranks.
struct SearchReranker {
    let scorer: any PairScorer
    let embedder: TowerEmbedder
    let weight: Float

    /// nil when the model has no pair scorer (a dual encoder): search then keeps the first stage's order.
    init?(_ embedder: TowerEmbedder, weight: Double) {
        guard let scorer = embedder.model.pairScorer else { return nil }
        self.scorer = scorer
        self.embedder = embedder
        self.weight = Float(weight)
    }

    /// Images found for a text, re-ordered; `images` are the candidates' image files.
    func rerank(text: String, hits: [SearchIndex.Hit], images: [URL]) throws -> [SearchIndex.Hit] {
        guard !hits.isEmpty else { return hits }
        return try withNoGrad {
            let query = try textStates([text])
            var generator = SystemRandomNumberGenerator()
            let pixels = try images.flatMap { try embedder.pipeline(contentsOf: $0.path, using: &generator).values }
            let side = embedder.imageSize
            let candidates = try embedder.towers.encodeImages(Tensor(pixels, shape: [hits.count, 3, side, side]).to(device: embedder.model.device)).states
            let probabilities = try match(textStates: query.states.expanded([hits.count] + Array(query.states.shape.dropFirst())),
                                          textMask: query.mask.expanded([hits.count] + Array(query.mask.shape.dropFirst())),
                                          imageStates: candidates)
            return Self.reorder(hits, by: probabilities, weight: weight)
        }
    }

    /// Texts found for an image (encoded bytes), re-ordered.
    func rerank(image bytes: [UInt8], hits: [SearchIndex.Hit]) throws -> [SearchIndex.Hit] {
        guard !hits.isEmpty else { return hits }
        return try withNoGrad {
            var generator = SystemRandomNumberGenerator()
            let side = embedder.imageSize
            let pixels = try embedder.pipeline(encoded: bytes, source: "the query image", using: &generator).values
            let image = try embedder.towers.encodeImages(Tensor(pixels, shape: [1, 3, side, side]).to(device: embedder.model.device)).states
            let candidates = try textStates(hits.map { $0.text ?? "" })
            let probabilities = try match(textStates: candidates.states, textMask: candidates.mask,
                                          imageStates: image.expanded([hits.count] + Array(image.shape.dropFirst())))
            return Self.reorder(hits, by: probabilities, weight: weight)
        }
    }

    private func textStates(_ texts: [String]) throws -> (states: Tensor, mask: Tensor) {
        let batch = try TextBatch(try texts.map(embedder.inputs.encode), paddingID: embedder.tokenizer.paddingID, device: embedder.model.device)
        return (try embedder.towers.encodeTexts(batch.inputIDs, attentionMask: batch.attentionMask).states, batch.attentionMask)
    }

    private func match(textStates: Tensor, textMask: Tensor, imageStates: Tensor) throws -> [Float] {
        try scorer.scorePairs(textStates: textStates.contiguous(), textMask: textMask.contiguous(), imageStates: imageStates.contiguous())
            .matchProbability().to(.float32, device: .cpu).floats()
    }

    /// Scores become similarity + weight · match probability, best first (ties keep the first
    /// stage's order).
    static func reorder(_ hits: [SearchIndex.Hit], by probabilities: [Float], weight: Float) -> [SearchIndex.Hit] {
        zip(hits, probabilities).enumerated().map { order, pair -> (Int, SearchIndex.Hit) in
            var hit = pair.0
            hit.match = pair.1
            hit.score += weight * pair.1
            return (order, hit)
        }.sorted { $0.1.score != $1.1.score ? $0.1.score > $1.1.score : $0.0 < $1.0 }.map(\.1)
    }
}
