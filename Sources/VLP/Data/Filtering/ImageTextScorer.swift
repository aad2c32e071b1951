/// LAIT's weak semantic scorer: how well each text describes its image, as a cosine in [-1, 1].
/// `DataFilter` drops texts below `FilterRules.minSimilarity` and keeps the `keepBest` best
/// texts of each image. `CheckpointScorer` scores with a trained swift-vlp model's towers.
public protocol ImageTextScorer: AnyObject {
    /// The shorter side images need for scoring; JPEGs decode at a reduced scale down to it.
    var imageShortSide: Int? { get }
    /// `result[i][j]` scores `images[i]` with `texts[i][j]`.
    func similarities(images: [RGBImage], texts: [[String]]) throws -> [[Float]]
}
