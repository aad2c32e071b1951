import Torch

/// FGR, R2D2's fine-grained ranking loss. For each text one hard-negative image, and for each
/// image one hard-negative text, are drawn with probability ∝ softmax(similarity) over the
/// non-positives (`sampleHardNegatives`). Both cross encoders then score the B positive and 2B
/// negative pairs through 2-way heads on their [CLS]; the loss is the class-weighted cross-entropy
/// (positive class weighted `positiveWeight`, 2 in R2D2's code) of each head, averaged over heads:
///
///   L = ½ Σ_h CE_w(logits_h, labels),  labels = 1 for positives, 0 for negatives.
public struct FineGrainedRanking {
    public var positiveWeight: Double

    public init(positiveWeight: Double = 2) {
        self.positiveWeight = positiveWeight
    }

    /// One column index per row of `similarity` [B, N], drawn ∝ softmax(similarity) with the
    /// positives (`positiveMask` true) excluded — with probability `uniformFraction` from the
    /// uniform distribution over the non-positives instead (a mix of hard and easy negatives).
    /// A row with no negative at all is an error.
    public static func sampleHardNegatives(similarity: Tensor, positiveMask: Tensor, uniformFraction: Double = 0) throws -> Tensor {
        try withNoGrad {
            let masked = try similarity.detached().to(.float32).maskedFill(positiveMask, -Double.infinity)
            let noNegative = try positiveMask.to(.int64).sum(dim: 1) .== Int(positiveMask.size(1))
            if try noNegative.any() {
                throw TorchError("FineGrainedRanking", "a row has no negative candidate (every column is a positive); batch too small or ids not distinct")
            }
            var probabilities = try masked.softmax(dim: 1)
            if uniformFraction > 0 {
                let negatives = try positiveMask.logicalNot().to(.float32)
                let uniform = try negatives / negatives.sum(dim: 1, keepDims: true)
                probabilities = try probabilities * (1 - uniformFraction) + uniform * uniformFraction
            }
            return try probabilities.multinomial(samples: 1).squeezed(dim: 1)
        }
    }

    /// - Parameter headLogits: each head's 2-way logits for the pairs, [P, 2];
    /// - Parameter labels: int64 [P], 1 = matching pair.
    public func callAsFunction(headLogits: [Tensor], labels: Tensor) throws -> Tensor {
        guard let first = headLogits.first else { throw TorchError("FineGrainedRanking", "no match heads given") }
        let weight = try Tensor([1, positiveWeight], shape: [2]).to(first.dtype, device: first.device)
        var total = try Functional.crossEntropy(first, labels, weight: weight)
        for logits in headLogits.dropFirst() { total = try total + Functional.crossEntropy(logits, labels, weight: weight) }
        return try total / Double(headLogits.count)
    }
}
