import CImageCodecs
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Encodes `RGBImage`s as PNG (libpng) or JPEG (TurboJPEG). Used by the corpus generator and by
/// anything that writes images for people to look at.
public enum ImageEncoder {
    /// Chroma subsampling of a JPEG: 4:4:4 keeps full colour resolution, 4:2:0 is the common default.
    public enum ChromaSubsampling: Int32, Sendable {
        case none = 444, horizontal = 422, both = 420
    }

    /// Lossless PNG; `compressionLevel` is zlib's 0 (store) … 9 (smallest).
    public static func png(_ image: RGBImage, compressionLevel: Int = 6) throws(ImageError) -> [UInt8] {
        try encode(image) { src, out, n, err, cap in
            vlp_png_encode_rgb(src, Int32(image.width), Int32(image.height), Int32(clamping: compressionLevel),
                               out, n, err, cap)
        }
    }

    /// JPEG at `quality` 1…100 (libjpeg's scale, as Pillow's `quality`).
    public static func jpeg(_ image: RGBImage, quality: Int = 90,
                            subsampling: ChromaSubsampling = .both) throws(ImageError) -> [UInt8] {
        try encode(image) { src, out, n, err, cap in
            vlp_jpeg_encode_rgb(src, Int32(image.width), Int32(image.height), Int32(clamping: quality),
                                subsampling.rawValue, out, n, err, cap)
        }
    }

    private static func encode(
        _ image: RGBImage,
        _ body: (UnsafePointer<UInt8>, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>,
                 UnsafeMutablePointer<Int>, UnsafeMutablePointer<CChar>, Int) -> Int32
    ) throws(ImageError) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var count = 0
        var message = [CChar](repeating: 0, count: 256)
        let code = image.pixels.withUnsafeBufferPointer { src in
            message.withUnsafeMutableBufferPointer { err in
                body(src.baseAddress!, &out, &count, err.baseAddress!, err.count)
            }
        }
        defer { free(out) }
        guard code == Int32(VLP_OK), let out else {
            throw .encodingFailed(detail: String(cString: message))
        }
        return Array(UnsafeBufferPointer(start: out, count: count))
    }
}
