import Torch

/// How FGR draws its hard negatives from the batch: how sharply the similarity is turned into
/// probabilities, and which candidates count as positives (never drawn).
///
/// R2D2's and ALBEF's code draw ∝ softmax(similarity / τ) with τ the learned temperature, and
/// exclude only the anchor's own image. On a corpus where many images share a caption (Scenes:
/// about half the training titles equal a positive text of another image) the sharpest
/// "negative" is then often a pair with the very same text, labelled 0 — which the heads cannot
/// separate; `positives: .imageOrText` counts such pairs as positives instead.
public struct HardNegativeSampling: Codable, Equatable, Sendable {
    public enum Weighting: String, Codable, CaseIterable, Sendable {
        /// ∝ softmax(cosine): with cosines in [−1, 1], close to uniform over the batch.
        case cosine
        /// ∝ softmax(cosine / τ), τ the towers' learned temperature (R2D2, ALBEF).
        case temperature
    }

    public enum Positives: String, Codable, CaseIterable, Sendable {
        /// Pairs of the same image (by `imageID`).
        case image
        /// Pairs of the same image, or whose texts have the same token ids.
        case imageOrText = "image_or_text"
    }

    public var weighting: Weighting
    public var positives: Positives
    /// Each image's first rewritten hard negative (data `rewrites` ≥ 1: a one-aspect rewrite of
    /// its caption, or a retrieved caption) is one more negative pair for the cross encoders,
    /// beside the sampled ones — the confusions the ranking stage must settle. The rewrites are
    /// unmasked, so this needs Enhanced Training off (else the absence of [MASK] would give the
    /// label away).
    public var rewrites: Bool
    /// The fraction of negatives drawn uniformly over the non-positives rather than by
    /// `weighting`: a mix of hard and easy negatives (0: all by `weighting`).
    public var uniformFraction: Double

    public init(weighting: Weighting = .cosine, positives: Positives = .image, rewrites: Bool = false, uniformFraction: Double = 0) {
        self.weighting = weighting
        self.positives = positives
        self.rewrites = rewrites
        self.uniformFraction = uniformFraction
    }

    enum CodingKeys: String, CodingKey { case weighting, positives, rewrites, uniformFraction = "uniform_fraction" }

    /// Descriptions written before `rewrites` and `uniform_fraction` existed read as without them.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(weighting: try c.decode(Weighting.self, forKey: .weighting), positives: try c.decode(Positives.self, forKey: .positives),
                  rewrites: try c.decodeIfPresent(Bool.self, forKey: .rewrites) ?? false,
                  uniformFraction: try c.decodeIfPresent(Double.self, forKey: .uniformFraction) ?? 0)
    }

    /// swift-vlp's sampling before these options existed (the presets keep it until a
    /// measured change replaces it).
    public static let cosine = HardNegativeSampling()

    /// [B, N]: true where local row i and column j (of the batch gathered from every worker)
    /// form a positive pair, never to be drawn as a negative. `inputIDs` [B, L] and
    /// `allInputIDs` [N, L] are the unmasked token ids; the latter is asked for only when
    /// texts count (on several processes it is a collective gather).
    public func positiveMask(imageIDs: Tensor, allImageIDs: Tensor, inputIDs: Tensor, allInputIDs: () throws -> Tensor) throws -> Tensor {
        try withNoGrad {
            let sameImage = try imageIDs.unsqueezed(dim: 1) .== allImageIDs.unsqueezed(dim: 0)
            guard positives == .imageOrText else { return sameImage }
            let sameText = try (inputIDs.unsqueezed(dim: 1) .== allInputIDs().unsqueezed(dim: 0)).to(.int64).min(dim: 2).values .== 1
            return try sameImage.logicalOr(sameText)
        }
    }

    /// The factor the cosine similarities are multiplied by before the softmax: 1, or 1/τ.
    public func sharpness(logitScale: Tensor) throws -> Double {
        switch weighting {
        case .cosine: return 1
        case .temperature: return try logitScale.detached().item()
        }
    }
}
