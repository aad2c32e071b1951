import Foundation
import VLP

/// An image that passed the checks: the bytes to store, their extension, the size they have,
/// and the size the server sent.
public struct AdmittedImage: Sendable {
    public var bytes: Data
    public var fileExtension: String
    public var width: Int, height: Int
    public var originalWidth: Int, originalHeight: Int
}

/// The checks a downloaded body passes before it reaches a shard: it is a JPEG, PNG or WebP
/// (by its bytes, never its Content-Type), it decodes whole with the project's decoder, its
/// shorter side and aspect ratio are within bounds; with `resizeShortSide` an image whose
/// shorter side is longer is resized to it (Pillow-exact bicubic, EXIF orientation applied)
/// and stored as JPEG. Smaller images, and all images without resizing, keep their bytes.
public struct ImageAdmission: Sendable {
    public var minSide: Int?
    public var maxAspect: Double?
    public var resizeShortSide: Int?
    public var jpegQuality: Int
    public var decoder: ImageDecoder

    public init(minSide: Int? = nil, maxAspect: Double? = nil, resizeShortSide: Int? = nil, jpegQuality: Int = 95,
                decoder: ImageDecoder = ImageDecoder()) {
        self.minSide = minSide
        self.maxAspect = maxAspect
        self.resizeShortSide = resizeShortSide
        self.jpegQuality = jpegQuality
        self.decoder = decoder
    }

    public func admit(_ body: Data) -> Result<AdmittedImage, DownloadFailure> {
        let bytes = [UInt8](body)
        guard let format = ImageFormat.sniff(bytes) else {
            let start = String(decoding: bytes.prefix(32), as: UTF8.self).lowercased()
            let looksLikeMarkup = start.contains("<!doctype") || start.contains("<html") || start.hasPrefix("<")
            return .failure(DownloadFailure(.notAnImage, detail: bytes.isEmpty ? "empty body" : looksLikeMarkup ? "an HTML/XML page" : "unknown bytes"))
        }
        let info: ImageInfo
        do { info = try decoder.probe(bytes) } catch {
            return .failure(DownloadFailure(.decodeError, detail: Self.detail(error)))
        }
        let width = info.width, height = info.height
        let short = min(width, height), long = max(width, height)
        if let minSide, short < minSide {
            return .failure(DownloadFailure(.tooSmall, detail: "\(width)×\(height), shorter side under \(minSide)"))
        }
        if let maxAspect, Double(long) / Double(max(1, short)) > maxAspect {
            return .failure(DownloadFailure(.aspectRatio, detail: "\(width)×\(height), aspect ratio over \(maxAspect)"))
        }
        // Decoding whole is the check that the data behind a good header is there.
        let decoded: RGBImage
        do { decoded = try decoder.decode(bytes, targetShortSide: resizeShortSide) } catch {
            return .failure(DownloadFailure(.decodeError, detail: Self.detail(error)))
        }
        let fileExtension = format == .jpeg ? "jpg" : format.rawValue
        guard let target = resizeShortSide, short > target else {
            return .success(AdmittedImage(bytes: body, fileExtension: fileExtension, width: width, height: height,
                                          originalWidth: width, originalHeight: height))
        }
        do {
            let resized = min(decoded.width, decoded.height) == target ? decoded : try decoded.resized(shortSide: target, filter: .bicubic)
            let jpeg = try ImageEncoder.jpeg(resized, quality: jpegQuality)
            return .success(AdmittedImage(bytes: Data(jpeg), fileExtension: "jpg", width: resized.width, height: resized.height,
                                          originalWidth: width, originalHeight: height))
        } catch {
            return .failure(DownloadFailure(.decodeError, detail: "resizing: \(error)"))
        }
    }

    /// The error without its source name (the bytes have none).
    static func detail(_ error: ImageError) -> String {
        switch error {
        case .zeroByte: return "zero bytes"
        case .truncated(_, let detail): return "truncated (\(detail))"
        case .unknownFormat(_, let detail): return "unknown format (\(detail))"
        case .corrupt(_, let detail): return "corrupt (\(detail))"
        case .unsupported(_, let detail): return "unsupported (\(detail))"
        case .tooLarge(_, let detail): return "too many pixels (\(detail))"
        case .unreadable(_, let detail): return detail
        case .encodingFailed(let detail), .invalidArgument(let detail): return detail
        }
    }
}
