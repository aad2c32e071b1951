import Foundation
import Torch

/// R2D2's entity attention map: where the text-attends-image cross encoder looks when it reads
/// an entity phrase of a caption. The cross-attention of the phrase's tokens over the image
/// patches (last layer, averaged over heads and over the phrase's tokens; the class token
/// left out) is a grid of patch weights, drawn as a heat map on the image.
public enum EntityAttentionMap {
    /// Patch weights [gridHeight · gridWidth] for `entity` inside `caption` on `image` ([3, H, W]),
    /// the grid being the image tower's `patchGrid`. The model needs towers and a pair scorer.
    /// `inputs` tokenizes the caption and the entity as the model was trained (its tokenizer and
    /// context length).
    public static func weights(_ model: PretrainingModel, image: Tensor, caption: String, entity: String,
                               inputs: InputPipeline) throws -> [Float] {
        guard let towers = model.towers, let scorer = model.pairScorer else {
            throw EvaluationError.empty("a cross encoder to draw attention maps from (the \(model.architecture.rawValue) model has no pair scorer)")
        }
        let encoded = try inputs.encode(caption)
        let phrase = inputs.tokenizer.tokenize(entity)
        guard !phrase.isEmpty, let start = firstOccurrence(of: phrase, in: encoded.ids) else {
            throw EvaluationError.empty("the tokens of entity \"\(entity)\" in caption \"\(caption)\"")
        }
        return try withNoGrad {
            let batch = try TextBatch([encoded], paddingID: inputs.tokenizer.paddingID)
            let images = try towers.encodeImages(image.unsqueezed(dim: 0))
            let texts = try towers.encodeTexts(batch.inputIDs, attentionMask: batch.attentionMask)
            let scores = try scorer.scorePairs(textStates: texts.states, textMask: batch.attentionMask, imageStates: images.states,
                                              returnCrossAttention: true)
            guard let last = scores.textCrossAttention.last else { throw EvaluationError.empty("the cross encoder's layers") }
            // [1, heads, L, 1 + patches] → the phrase's rows, mean over heads and tokens, patches only.
            let rows = try last[0].mean(dims: [0]).narrowed(dim: 0, start: start, length: phrase.count).mean(dims: [0])
            return try rows.narrowed(dim: 0, start: 1, length: rows.size(0) - 1).to(.float32).floats()
        }
    }

    static func firstOccurrence(of phrase: [Int32], in ids: [Int32]) -> Int? {
        guard phrase.count <= ids.count else { return nil }
        return (0...(ids.count - phrase.count)).first { Array(ids[$0..<($0 + phrase.count)]) == phrase }
    }
}
