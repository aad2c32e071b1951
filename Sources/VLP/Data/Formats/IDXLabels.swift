import Foundation
import Torch

/// MNIST-style idx files: `*-images-idx3-ubyte` (magic 0x00000803, count, rows, columns, then
/// bytes) with `*-labels-idx1-ubyte` (magic 0x00000801, count, then one byte a label), either
/// raw or gzip-compressed (`.gz`). Fashion-MNIST ships in this form (Debian package
/// `dataset-fashion-mnist`, under /usr/share/datasets/fashion-mnist). Images come back as
/// grey pixels replicated to RGB.
public enum IDXLabels {
    /// Where Debian's `dataset-fashion-mnist` puts its files.
    public static let fashionMNISTFolder = "/usr/share/datasets/fashion-mnist"

    /// Fashion-MNIST's ten classes, in label order.
    public static let fashionMNISTClasses = ClassNames(byLanguage: [
        "en": ["T-shirt/top", "trouser", "pullover", "dress", "coat",
               "sandal", "shirt", "sneaker", "bag", "ankle boot"],
        "zh": ["T恤", "裤子", "套头衫", "连衣裙", "外套", "凉鞋", "衬衫", "运动鞋", "包", "短靴"],
    ])

    /// The image and label files of a Fashion-MNIST split (`train` or `t10k`) in a folder,
    /// preferring raw files and falling back to `.gz`.
    public static func fashionMNISTFiles(folder: String = fashionMNISTFolder, split: String) -> (images: String, labels: String) {
        func pick(_ stem: String) -> String {
            let raw = folder + "/" + stem
            return FileManager.default.fileExists(atPath: raw) ? raw : raw + ".gz"
        }
        return (pick("\(split)-images-idx3-ubyte"), pick("\(split)-labels-idx1-ubyte"))
    }

    /// The whole file, gunzipped when it starts with the gzip magic.
    static func load(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
                throw DatasetError.unreadable(path, reason: isFolder.boolValue ? "is a folder" : "cannot open")
            }
            throw DatasetError.fileNotFound(path)
        }
        let bytes = [UInt8](data)
        guard Gzip.isCompressed(bytes) else { return bytes }
        do {
            return try Gzip.decompress(bytes)
        } catch {
            throw DatasetError.unreadable(path, reason: error.description)
        }
    }

    static func header(_ bytes: [UInt8], path: String, magic: UInt32, dimensions: Int) throws -> [Int] {
        let headerSize = 4 + 4 * dimensions
        guard bytes.count >= headerSize else {
            throw DatasetError.badHeader(path, reason: "\(bytes.count) bytes, shorter than the \(headerSize)-byte header")
        }
        func be32(_ i: Int) -> UInt32 {
            UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
        }
        guard be32(0) == magic else {
            throw DatasetError.badHeader(path, reason: String(format: "magic 0x%08X, expected 0x%08X", be32(0), magic))
        }
        return (0..<dimensions).map { Int(be32(4 + 4 * $0)) }
    }

    public final class Reader: SampleReader {
        public let imagesPath: String
        public let labelsPath: String
        public let count: Int
        public let width: Int
        public let height: Int
        public private(set) var skipped: [SkippedRecord] = []
        private let images: [UInt8]
        private let labels: [UInt8]
        private let stem: String
        private var index = 0

        /// Loads both files; a wrong magic number or a count mismatch is a `DatasetError`.
        /// Files shorter than their headers claim keep the complete records and report the rest.
        public init(images imagesPath: String, labels labelsPath: String) throws {
            self.imagesPath = imagesPath
            self.labelsPath = labelsPath
            images = try IDXLabels.load(imagesPath)
            labels = try IDXLabels.load(labelsPath)
            let imageDims = try IDXLabels.header(images, path: imagesPath, magic: 0x0803, dimensions: 3)
            let labelDims = try IDXLabels.header(labels, path: labelsPath, magic: 0x0801, dimensions: 1)
            guard imageDims[0] == labelDims[0] else {
                throw DatasetError.badHeader(labelsPath, reason: "\(labelDims[0]) labels for \(imageDims[0]) images in \(imagesPath)")
            }
            guard imageDims[1] > 0, imageDims[2] > 0 else {
                throw DatasetError.badHeader(imagesPath, reason: "image size \(imageDims[1])×\(imageDims[2])")
            }
            let (pixels, overflow) = imageDims[1].multipliedReportingOverflow(by: imageDims[2])
            guard !overflow, pixels <= ImageDecoder.defaultMaxPixels else {
                throw DatasetError.badHeader(imagesPath, reason: "image size \(imageDims[1])×\(imageDims[2]) is over the limit of \(ImageDecoder.defaultMaxPixels) pixels (ImageDecoder.defaultMaxPixels)")
            }
            height = imageDims[1]
            width = imageDims[2]
            let stated = imageDims[0]
            let completeImages = (images.count - 16) / pixels
            let completeLabels = labels.count - 8
            count = min(stated, completeImages, completeLabels)
            if count < stated {
                let file = completeImages < stated ? imagesPath : labelsPath
                skipped.append(SkippedRecord(file: file, line: nil,
                                             reason: "truncated: header says \(stated) records, \(count) complete"))
            }
            stem = URL(fileURLWithPath: imagesPath).lastPathComponent.components(separatedBy: "-").first ?? "idx"
        }

        public func next() throws -> Sample? {
            guard index < count else { return nil }
            defer { index += 1 }
            let size = width * height
            let start = 16 + index * size
            var pixels = [UInt8](repeating: 0, count: size * 3)
            for i in 0..<size {
                let value = images[start + i]
                pixels[3 * i] = value; pixels[3 * i + 1] = value; pixels[3 * i + 2] = value
            }
            return Sample(id: "\(stem)-\(index)", image: .pixels(RGBImage(width: width, height: height, pixels: pixels)),
                          texts: [], label: Int(labels[8 + index]))
        }
    }

    /// Writes raw (uncompressed) idx files from grey or RGB samples of one size: the grey value
    /// is the channel mean. Labels must be 0…255.
    public final class Writer: SampleWriter {
        public let imagesPath: String
        public let labelsPath: String
        private var pixels: [UInt8] = []
        private var labels: [UInt8] = []
        private var size: (width: Int, height: Int)?

        public init(images: String, labels: String) {
            imagesPath = images
            labelsPath = labels
        }

        public func write(_ sample: Sample) throws {
            guard case .pixels(let image) = sample.image else {
                throw DatasetError.invalidArgument("sample \(sample.id): idx files take decoded pixels")
            }
            guard let label = sample.label, (0...255).contains(label) else {
                throw DatasetError.invalidArgument("sample \(sample.id): idx labels are 0…255")
            }
            if let size, size != (image.width, image.height) {
                throw DatasetError.invalidArgument("sample \(sample.id): \(image.width)×\(image.height), the file holds \(size.width)×\(size.height)")
            }
            size = (image.width, image.height)
            for i in 0..<(image.width * image.height) {
                let sum = Int(image.pixels[3 * i]) + Int(image.pixels[3 * i + 1]) + Int(image.pixels[3 * i + 2])
                pixels.append(UInt8((sum + 1) / 3))
            }
            labels.append(UInt8(label))
        }

        @discardableResult
        public func finish() throws -> [String] {
            func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
            let (w, h) = size ?? (0, 0)
            try AtomicFile.write(Data(be32(0x0803) + be32(labels.count) + be32(h) + be32(w) + pixels), to: imagesPath)
            try AtomicFile.write(Data(be32(0x0801) + be32(labels.count) + labels), to: labelsPath)
            return [imagesPath, labelsPath]
        }
    }
}
