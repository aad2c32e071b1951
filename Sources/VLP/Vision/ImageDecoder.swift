import CImageCodecs
import Foundation

/// The container formats the decoder reads, told apart by their first bytes (never by a name).
public enum ImageFormat: String, Sendable {
    case jpeg, png, webp

    /// The format named by the magic bytes at the start of `bytes`, or nil.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        let p = bytes.bindMemory(to: UInt8.self)
        switch vlp_image_sniff(p.baseAddress, p.count) {
        case VLP_FORMAT_JPEG: return .jpeg
        case VLP_FORMAT_PNG: return .png
        case VLP_FORMAT_WEBP: return .webp
        default: return nil
        }
    }

    public static func sniff(_ bytes: [UInt8]) -> ImageFormat? {
        bytes.withUnsafeBytes { sniff($0) }
    }
}

/// What the headers say, without decoding pixels.
public struct ImageInfo: Equatable, Sendable {
    public let format: ImageFormat
    /// As stored in the file.
    public let sourceWidth: Int, sourceHeight: Int
    /// Of the decoded image, after DCT scaling and (when applied) the EXIF orientation.
    public let width: Int, height: Int
    /// The JPEG DCT-domain scaling used: 1, 2, 4 or 8.
    public let scaleDenominator: Int
    public let orientation: ExifOrientation
}

/// Decodes JPEG, PNG and WebP bytes into `RGBImage`s, as Pillow's `Image.open(f).convert("RGB")`
/// does: alpha dropped, gray replicated, palettes expanded, 16-bit samples cut to their high byte
/// (for 16-bit gray Pillow clips to 255 instead; we keep the high byte), CMYK converted with
/// Adobe's inverted polarity. The EXIF orientation of a JPEG is applied unless turned off.
///
/// A value type with no shared state: use one per thread or share it, either is safe.
public struct ImageDecoder: Sendable {
    /// Turn JPEGs upright by their EXIF orientation (Pillow's `ImageOps.exif_transpose`).
    public var appliesExifOrientation: Bool
    /// Images with more pixels are refused (`ImageError.tooLarge`); `defaultMaxPixels` unless set.
    public var maxPixels: Int
    /// The limit the loader, evaluation and `vlp data filter` decode under: Pillow's
    /// decompression-bomb error limit (2 × 89,478,485 pixels), also the C codecs' default.
    public static let defaultMaxPixels = 178_956_970

    public init(appliesExifOrientation: Bool = true, maxPixels: Int = ImageDecoder.defaultMaxPixels) {
        self.appliesExifOrientation = appliesExifOrientation
        self.maxPixels = maxPixels
    }

    /// Decodes an image file. `targetShortSide` lets a JPEG decode at 1/2, 1/4 or 1/8 scale in
    /// the DCT domain while its shorter side stays at least `targetShortSide` (a big speed-up when
    /// the image is later resized to that size); other formats ignore it.
    public func decode(contentsOf path: String, targetShortSide: Int? = nil) throws(ImageError) -> RGBImage {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw .unreadable(source: path, detail: "\(error.localizedDescription)")
        }
        return try decode(data, source: path, targetShortSide: targetShortSide)
    }

    /// Decodes bytes held in memory; `source` names them in errors.
    public func decode(_ bytes: [UInt8], source: String = "<memory>", targetShortSide: Int? = nil) throws(ImageError) -> RGBImage {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(ImageError) in try decode(raw, source: source, targetShortSide: targetShortSide) }
        }.get()
    }

    public func decode(_ data: Data, source: String = "<memory>", targetShortSide: Int? = nil) throws(ImageError) -> RGBImage {
        try data.withUnsafeBytes { raw in
            Result { () throws(ImageError) in try decode(raw, source: source, targetShortSide: targetShortSide) }
        }.get()
    }

    public func decode(_ bytes: UnsafeRawBufferPointer, source: String = "<memory>", targetShortSide: Int? = nil) throws(ImageError) -> RGBImage {
        let input = bytes.bindMemory(to: UInt8.self)
        var options = cOptions(targetShortSide: targetShortSide)
        var info = vlp_image_info()
        var message = [CChar](repeating: 0, count: 256)
        var code = vlp_image_probe(input.baseAddress, input.count, &options, &info, &message, message.count)
        if code != Int32(VLP_OK) { throw Self.error(code: code, message: message, source: source) }
        let count = Int(info.width) * Int(info.height) * 3
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            code = vlp_image_decode_rgb(input.baseAddress, input.count, &options, buffer.baseAddress, count,
                                        &info, &message, message.count)
            initialized = code == Int32(VLP_OK) ? count : 0
        }
        if code != Int32(VLP_OK) { throw Self.error(code: code, message: message, source: source) }
        let image = RGBImage(width: Int(info.width), height: Int(info.height), pixels: pixels)
        let orientation = ExifOrientation(rawValue: Int(info.orientation)) ?? .up
        return appliesExifOrientation ? orientation.applied(to: image) : image
    }

    /// Reads only the headers.
    public func probe(_ bytes: UnsafeRawBufferPointer, source: String = "<memory>", targetShortSide: Int? = nil) throws(ImageError) -> ImageInfo {
        let input = bytes.bindMemory(to: UInt8.self)
        var options = cOptions(targetShortSide: targetShortSide)
        var info = vlp_image_info()
        var message = [CChar](repeating: 0, count: 256)
        let code = vlp_image_probe(input.baseAddress, input.count, &options, &info, &message, message.count)
        if code != Int32(VLP_OK) { throw Self.error(code: code, message: message, source: source) }
        let orientation = ExifOrientation(rawValue: Int(info.orientation)) ?? .up
        let swaps = appliesExifOrientation && orientation.swapsDimensions
        let format: ImageFormat = info.format == VLP_FORMAT_JPEG ? .jpeg : info.format == VLP_FORMAT_PNG ? .png : .webp
        return ImageInfo(format: format, sourceWidth: Int(info.source_width), sourceHeight: Int(info.source_height),
                         width: Int(swaps ? info.height : info.width), height: Int(swaps ? info.width : info.height),
                         scaleDenominator: Int(info.scale_denom), orientation: orientation)
    }

    public func probe(_ bytes: [UInt8], source: String = "<memory>", targetShortSide: Int? = nil) throws(ImageError) -> ImageInfo {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(ImageError) in try probe(raw, source: source, targetShortSide: targetShortSide) }
        }.get()
    }

    private func cOptions(targetShortSide: Int?) -> vlp_decode_options {
        var options = vlp_decode_options()
        if let side = targetShortSide, side > 0 {
            let clamped = Int32(clamping: side)
            options.min_width = clamped
            options.min_height = clamped
        }
        options.max_pixels = UInt64(max(1, maxPixels))
        return options
    }

    static func error(code: Int32, message: [CChar], source: String) -> ImageError {
        let detail = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        switch Int(code) {
        case VLP_ERR_EMPTY: return .zeroByte(source: source)
        case VLP_ERR_TRUNCATED: return .truncated(source: source, detail: detail)
        case VLP_ERR_UNKNOWN_FORMAT: return .unknownFormat(source: source, detail: detail)
        case VLP_ERR_UNSUPPORTED: return .unsupported(source: source, detail: detail)
        case VLP_ERR_TOO_LARGE: return .tooLarge(source: source, detail: detail)
        default: return .corrupt(source: source, detail: detail)
        }
    }
}
