import Foundation

/// A sample's image as the filter sees it: its size, read from the header where possible, and
/// its pixels when they were decoded (to check the data, or for the semantic scorer).
struct FilterImage {
    var size: ImageSize
    var pixels: RGBImage?

    /// Why an image could not be used; becomes a `FilterRule.unreadableImage` example.
    struct Problem: Error {
        var reason: String
    }

    /// Reads `payload`. The size comes from the codec's own header reader (`ImageDecoder.probe`,
    /// with the loader's limits), so an image the loader's decoder refuses — a format it does not
    /// read, a header claiming more than `ImageDecoder.defaultMaxPixels` pixels — is refused here
    /// too, and the size is the one stored in the file whatever scale a JPEG decodes at. With
    /// `decodes` false only the header is read (a file's first 64 KiB, then all of it if that
    /// does not do); with `decodes` true the image is decoded too, at least `shortSide` pixels
    /// on its shorter side where the codec can scale (JPEG).
    static func read(_ payload: ImagePayload?, decodes: Bool, shortSide: Int?) -> Result<FilterImage, Problem> {
        switch payload {
        case nil:
            return .failure(Problem(reason: "the sample has no image"))
        case .pixels(let raster):
            return .success(FilterImage(size: ImageSize(width: raster.width, height: raster.height), pixels: raster))
        case .encoded(let data):
            return read(bytes: data, source: "embedded image", decodes: decodes, shortSide: shortSide)
        case .file(let path):
            if !decodes, let head = payload?.headerBytes, !head.isEmpty,
               case .success(let image) = read(bytes: head, source: path, decodes: false, shortSide: nil) {
                return .success(image)
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                return .failure(Problem(reason: "\(path): cannot read the image file"))
            }
            return read(bytes: data, source: path, decodes: decodes, shortSide: shortSide)
        }
    }

    private static func read(bytes: Data, source: String, decodes: Bool, shortSide: Int?) -> Result<FilterImage, Problem> {
        if bytes.isEmpty { return .failure(Problem(reason: "\(source): zero bytes")) }
        let decoder = ImageDecoder()
        do {
            let info = try bytes.withUnsafeBytes { raw in try decoder.probe(raw, source: source) }
            let size = ImageSize(width: info.sourceWidth, height: info.sourceHeight)
            guard decodes else { return .success(FilterImage(size: size, pixels: nil)) }
            return .success(FilterImage(size: size, pixels: try decoder.decode(bytes, source: source, targetShortSide: shortSide)))
        } catch {
            return .failure(Problem(reason: "\(error)"))
        }
    }

    /// A key telling images apart for the frequency rule (`ImagePayload.identity`); a sample
    /// without an image counts as its own.
    static func identity(_ payload: ImagePayload?, sampleID: String) -> Int {
        Int(payload?.identity ?? SampleTransform.contentHash(Array(("sample:" + sampleID).utf8)))
    }
}
