/// One step of image preprocessing: an `RGBImage` in, an `RGBImage` out. Random steps draw
/// only from the generator they are given, so a seeded generator makes a pipeline repeatable.
public protocol ImageTransform: Sendable {
    func apply<G: RandomNumberGenerator>(to image: RGBImage, using generator: inout G) throws(ImageError) -> RGBImage

    /// The shortest image side this step needs to see to give its full-quality result, when that
    /// can be known before decoding (a resize to a fixed short side); nil when it cannot. The
    /// pipeline passes it to the decoder as its DCT-scaling hint.
    var decodeShortSideHint: Int? { get }
}

extension ImageTransform {
    public var decodeShortSideHint: Int? { nil }
}
