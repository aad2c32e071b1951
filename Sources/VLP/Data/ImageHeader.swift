import Foundation

/// Image container formats recognised from their first bytes, and image sizes read from headers
/// alone (PNG IHDR, JPEG SOF, WebP VP8/VP8L/VP8X, binary PPM) — enough for statistics without
/// decoding.
public enum ImageContainer: String, Sendable, CaseIterable {
    case png, jpeg, webp, ppm

    /// The file extension writers use.
    public var fileExtension: String {
        switch self {
        case .png: return "png"
        case .jpeg: return "jpg"
        case .webp: return "webp"
        case .ppm: return "ppm"
        }
    }

    /// Extensions readers accept for this container.
    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "webp", "ppm"]

    public static func sniff(_ data: Data) -> ImageContainer? {
        let b = [UInt8](data.prefix(16))
        if b.count >= 8, b[0...7] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        if b.count >= 3, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF { return .jpeg }
        if b.count >= 12, b[0...3] == [0x52, 0x49, 0x46, 0x46], b[8...11] == [0x57, 0x45, 0x42, 0x50] { return .webp }
        if b.count >= 2, b[0] == 0x50, b[1] == 0x36 { return .ppm }
        return nil
    }
}

/// Width and height of an encoded image, read from its header.
public struct ImageSize: Equatable, Hashable, Sendable {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// The size stated in the header of `data`, nil when the header is not understood.
    public init?(header data: Data) {
        let bytes = [UInt8](data)
        guard let container = ImageContainer.sniff(data) else { return nil }
        let size: (Int, Int)?
        switch container {
        case .png: size = ImageSize.png(bytes)
        case .jpeg: size = ImageSize.jpeg(bytes)
        case .webp: size = ImageSize.webp(bytes)
        case .ppm: size = ImageSize.ppm(bytes)
        }
        guard let (w, h) = size, w > 0, h > 0 else { return nil }
        self.init(width: w, height: h)
    }

    private static func be32(_ b: [UInt8], _ i: Int) -> Int {
        Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
    }

    private static func png(_ b: [UInt8]) -> (Int, Int)? {
        guard b.count >= 24, b[12...15] == [0x49, 0x48, 0x44, 0x52] else { return nil }
        return (be32(b, 16), be32(b, 20))
    }

    private static func jpeg(_ b: [UInt8]) -> (Int, Int)? {
        var i = 2
        while i + 3 < b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }                      // fill byte
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            let isFrame = (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
            if isFrame {
                guard i + 8 < b.count else { return nil }
                let height = Int(b[i + 5]) << 8 | Int(b[i + 6])
                let width = Int(b[i + 7]) << 8 | Int(b[i + 8])
                return (width, height)
            }
            if marker == 0xD9 || marker == 0xDA { return nil }          // end or scan before a frame
            i += 2 + length
        }
        return nil
    }

    private static func webp(_ b: [UInt8]) -> (Int, Int)? {
        guard b.count >= 30 else { return nil }
        let chunk = String(decoding: b[12...15], as: UTF8.self)
        let d = 20
        switch chunk {
        case "VP8 ":
            guard b[d + 3] == 0x9D, b[d + 4] == 0x01, b[d + 5] == 0x2A else { return nil }
            let w = (Int(b[d + 6]) | Int(b[d + 7]) << 8) & 0x3FFF
            let h = (Int(b[d + 8]) | Int(b[d + 9]) << 8) & 0x3FFF
            return (w, h)
        case "VP8L":
            guard b[d] == 0x2F else { return nil }
            let bits = Int(b[d + 1]) | Int(b[d + 2]) << 8 | Int(b[d + 3]) << 16 | Int(b[d + 4]) << 24
            return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        case "VP8X":
            let w = Int(b[d + 4]) | Int(b[d + 5]) << 8 | Int(b[d + 6]) << 16
            let h = Int(b[d + 7]) | Int(b[d + 8]) << 8 | Int(b[d + 9]) << 16
            return (w + 1, h + 1)
        default:
            return nil
        }
    }

    /// Binary PPM: `P6`, width, height, maxval separated by whitespace, `#` comments allowed.
    private static func ppm(_ b: [UInt8]) -> (Int, Int)? {
        var numbers: [Int] = []
        var i = 2
        while numbers.count < 2, i < b.count {
            let c = b[i]
            if c == 0x23 { while i < b.count, b[i] != 0x0A { i += 1 }; continue }
            if (0x30...0x39).contains(c) {
                var value = 0
                while i < b.count, (0x30...0x39).contains(b[i]) {
                    value = value * 10 + Int(b[i] - 0x30)
                    if value > 1 << 24 { return nil }
                    i += 1
                }
                numbers.append(value)
                continue
            }
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return nil }
            i += 1
        }
        return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
    }
}

extension ImagePayload {
    /// The bytes `ImageSize(header:)` and `ImageContainer.sniff` need: embedded bytes as they
    /// are, a file's first 64 KiB (no decode); nil for pixels or a file that cannot be opened or read.
    var headerBytes: Data? {
        switch self {
        case .encoded(let data):
            return data
        case .file(let path):
            guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
            defer { try? handle.close() }
            do { return try handle.read(upToCount: 1 << 16) ?? Data() } catch { return nil }
        case .pixels:
            return nil
        }
    }

    /// A key telling images apart within a dataset: the file path, or the content of embedded
    /// bytes and pixels (`vlp data inspect`'s distinct images, the filter's frequency rule).
    var identity: Int64 {
        switch self {
        case .file(let path): return SampleTransform.contentHash(Array(("file:" + path).utf8))
        case .encoded(let data): return SampleTransform.contentHash(data)
        case .pixels(let raster): return SampleTransform.contentHash(raster.pixels) ^ Int64(raster.width << 20 | raster.height)
        }
    }
}
