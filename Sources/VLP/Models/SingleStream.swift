import Foundation
import Torch

/// The single-stream model's shape beyond its transformer (`text`) and image geometry (`vision`).
public struct SingleStreamConfiguration: Codable, Equatable, Sendable {
    /// Width of precomputed region features; 0 embeds pixel patches of `vision.patch_size`.
    public var regionFeatureDim: Int
    /// Detector classes for MOC; 0 leaves the head out.
    public var objectClasses: Int

    enum CodingKeys: String, CodingKey {
        case regionFeatureDim = "region_feature_dim", objectClasses = "object_classes"
    }

    public init(regionFeatureDim: Int = 0, objectClasses: Int = 0) {
        self.regionFeatureDim = regionFeatureDim
        self.objectClasses = objectClasses
    }
}

/// What the single-stream model returns.
public struct SingleStreamOutput {
    /// All token states [B, L + R, hidden]: text first, then regions.
    public let states: Tensor
    /// ITM logits of `[CLS]` [B, 2] (class 1 = match).
    public let matchLogits: Tensor
    /// Text token states [B, L, hidden].
    public let textStates: Tensor
    /// Region token states [B, R, hidden].
    public let regionStates: Tensor
}

/// Region features and boxes to the transformer's width: `LN(W_f·f + W_b·box + type₁)`
/// (ImageBERT's image embedding; the box replaces the position embedding).
public final class RegionEmbeddings: Module {
    @Child(key: "feature") public var feature: Linear
    @Child(key: "box") public var box: Linear
    @Child(key: "LayerNorm") public var layerNorm: LayerNorm

    public init(featureWidth: Int, hidden: Int, layerNormEps: Double) throws {
        _feature.wrappedValue = try Linear(featureWidth, hidden)
        _box.wrappedValue = try Linear(5, hidden)
        _layerNorm.wrappedValue = try LayerNorm([hidden], eps: layerNormEps)
        super.init()
    }
}

/// ImageBERT's single-stream transformer: one BERT over `[CLS] text [SEP]` followed by image
/// region tokens (segment 1, box-embedded), with heads for ITM (on `[CLS]`), MLM (text tokens),
/// MOC (region classes, when `object_classes` > 0) and MRFR (region features).
///
/// Keys: `embeddings.*`, `encoder.layer.N.*` (Hugging Face BERT), `region_embeddings.*`,
/// `match_head`, `mlm_head.*`, `object_head`, `region_feature_head`.
public final class SingleStream: Module {
    public var embeddings: BertEmbeddings
    @Child(key: "region_embeddings") public var regionEmbeddings: RegionEmbeddings
    public var encoder: BertEncoder
    @Child(key: "match_head") public var matchHead: Linear
    @Child(key: "mlm_head") public var mlmHead: MaskedLanguageModelHead
    @Child(key: "object_head") public var objectHead: Linear?
    @Child(key: "region_feature_head") public var regionFeatureHead: Linear
    public let configuration: VLPModelConfiguration
    /// Width of the region features this model takes.
    public let regionFeatureWidth: Int
    /// Side of the pixel patches a batch of images is cut into (the vision section's).
    public let patchSize: Int

    public init(_ configuration: VLPModelConfiguration) throws {
        try configuration.validate(source: "SingleStream")
        // validate() made sure the text section is a BERT's.
        guard let text = configuration.text.bert else {
            throw ModelError.invalidConfiguration(source: "SingleStream", reason: "the text section must be a BERT's")
        }
        let extra = configuration.singleStream ?? SingleStreamConfiguration()
        guard text.typeVocabularySize >= 2 else {
            throw ModelError.invalidConfiguration(source: "SingleStream", reason: "type_vocab_size must be ≥ 2 (text and image segments)")
        }
        // validate() made sure the vision section is a ViT's: its patches are the regions.
        guard let vision = configuration.vision.vit else {
            throw ModelError.invalidConfiguration(source: "SingleStream", reason: "the vision section must be a ViT's (its patch size cuts the regions)")
        }
        regionFeatureWidth = extra.regionFeatureDim > 0 ? extra.regionFeatureDim : vision.inputChannels * vision.patchSize * vision.patchSize
        patchSize = vision.patchSize
        embeddings = try BertEmbeddings(text)
        _regionEmbeddings.wrappedValue = try RegionEmbeddings(featureWidth: regionFeatureWidth, hidden: text.hiddenSize,
                                                              layerNormEps: text.layerNormEps)
        encoder = try BertEncoder(text)
        _matchHead.wrappedValue = try Linear(text.hiddenSize, 2)
        _mlmHead.wrappedValue = try MaskedLanguageModelHead(width: text.hiddenSize, vocabularySize: text.vocabularySize,
                                                           layerNormEps: text.layerNormEps)
        _objectHead.wrappedValue = extra.objectClasses > 0 ? try Linear(text.hiddenSize, extra.objectClasses) : nil
        _regionFeatureHead.wrappedValue = try Linear(text.hiddenSize, regionFeatureWidth)
        self.configuration = configuration
        super.init()
    }

    /// The model's regions for a batch of images: pixel patches (the only kind a batch of images
    /// gives; precomputed detector regions come from `RegionFiles` through the loader).
    public func regions(of images: Tensor) throws -> ImageRegions {
        guard regionFeatureWidth == images.size(1) * patchSize * patchSize else {
            throw ModelError.invalidInput(name: "regions", reason: "this model takes detector regions \(regionFeatureWidth) wide, not pixel patches: give it the images' region files (data key regions, or --regions FOLDER)")
        }
        return try ImageRegions.patches(of: images, patchSize: patchSize)
    }

    /// - Parameters:
    ///   - inputIDs, attentionMask: int64 [B, L] text (with `[CLS]` first).
    ///   - regions: [B, R, F] features and boxes.
    ///   - maskedRegions: boolean [B, R], true at regions hidden for MOC / MRFR (features zeroed).
    public func callAsFunction(inputIDs: Tensor, attentionMask: Tensor, regions: ImageRegions,
                               maskedRegions: Tensor? = nil) throws -> SingleStreamOutput {
        let (batch, length) = (inputIDs.size(0), inputIDs.size(1))
        guard regions.features.size(0) == batch, regions.featureWidth == regionFeatureWidth else {
            throw ModelError.invalidInput(name: "regions", reason: "expected [\(batch), R, \(regionFeatureWidth)] features, got \(regions.features.shape)")
        }
        let textEmbedded = try embeddings(inputIDs.to(.int64))
        var features = regions.features
        if let maskedRegions {
            guard maskedRegions.shape == [batch, regions.count] else {
                throw ModelError.invalidInput(name: "maskedRegions", reason: "expected [\(batch), \(regions.count)], got \(maskedRegions.shape)")
            }
            features = try features * (maskedRegions .== 0).to(features.dtype).unsqueezed(dim: -1)
        }
        let types = try Tensor.ones([batch, regions.count], dtype: .int64, device: inputIDs.device)
        let r = regionEmbeddings
        let regionEmbedded = try embeddings.dropout(r.layerNorm(r.feature(features) + r.box(regions.boxes) + embeddings.tokenTypeEmbeddings(types)))
        let tokens = try cat([textEmbedded, regionEmbedded], dim: 1)
        let regionMask = try regions.mask?.to(.int64) ?? Tensor.ones([batch, regions.count], dtype: .int64, device: inputIDs.device)
        let mask = try (cat([attentionMask.to(.int64), regionMask], dim: 1) .!= 0).reshaped([batch, 1, 1, length + regions.count])
        let (states, _) = try encoder(tokens, mask: mask)
        return SingleStreamOutput(states: states, matchLogits: try matchHead(states.select(dim: 1, index: 0)),
                                  textStates: try states.narrowed(dim: 1, start: 0, length: length),
                                  regionStates: try states.narrowed(dim: 1, start: length, length: regions.count))
    }
}
