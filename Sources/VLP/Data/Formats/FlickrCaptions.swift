import Foundation
import Torch

/// Flickr30k / Flickr30k-CN(A) token files: one caption a line, `IMAGE#N<TAB>caption`, where
/// IMAGE is a file name in an image folder (`1000092795.jpg#0	两个年轻人…`). A sample is one
/// image with its captions in order of N; its id is the file name without extension.
public enum FlickrCaptions {
    public final class Reader: SampleReader {
        public let path: String
        public let imageFolder: String
        public let language: String?
        public private(set) var skipped: [SkippedRecord] = []
        private var samples: [Sample] = []
        private var index = 0

        /// Reads the whole caption file (small next to its images) and groups lines by image.
        public init(path: String, imageFolder: String, language: String? = nil) throws {
            self.path = path
            self.imageFolder = imageFolder
            self.language = language
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: imageFolder, isDirectory: &isFolder), isFolder.boolValue else {
                throw DatasetError.fileNotFound(imageFolder)
            }
            let lines = try LineReader(path: path)
            var order: [String] = []
            var captions: [String: [(n: Int, text: String, line: Int)]] = [:]
            var missing = Set<String>()
            while let line = try lines.nextText() {
                let number = lines.lineNumber
                func skip(_ reason: String) { skipped.append(SkippedRecord(file: path, line: number, reason: reason)) }
                guard case .text(let text) = line else { skip("not UTF-8"); continue }
                if text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                guard let tab = text.firstIndex(of: "\t") else { skip("no tab after IMAGE#N"); continue }
                let token = text[..<tab]
                let caption = text[text.index(after: tab)...].trimmingCharacters(in: .whitespaces)
                guard let hash = token.lastIndex(of: "#"), let n = Int(token[token.index(after: hash)...]) else {
                    skip("\"\(token)\" is not IMAGE#N"); continue
                }
                let image = String(token[..<hash])
                guard !image.isEmpty else { skip("empty image name"); continue }
                guard !caption.isEmpty else { skip("empty caption for \(token)"); continue }
                if missing.contains(image) { skip("image not found: \(imageFolder)/\(image)"); continue }
                if captions[image] == nil {
                    guard FileManager.default.fileExists(atPath: imageFolder + "/" + image) else {
                        missing.insert(image)
                        skip("image not found: \(imageFolder)/\(image)"); continue
                    }
                    order.append(image)
                }
                if captions[image, default: []].contains(where: { $0.n == n }) {
                    skip("duplicate caption number \(token)"); continue
                }
                captions[image, default: []].append((n, caption, number))
            }
            var ids = DuplicateIDFilter()
            for image in order {
                let id = (image as NSString).deletingPathExtension
                guard ids.admit(id) else {
                    skipped.append(SkippedRecord(file: path, line: captions[image]?.first?.line,
                                                 reason: "duplicate id \(id) (\(image))"))
                    continue
                }
                let texts = (captions[image] ?? []).sorted { $0.n < $1.n }.map {
                    SampleText($0.text, kind: .caption, language: language)
                }
                samples.append(Sample(id: id, image: .file(imageFolder + "/" + image), texts: texts))
            }
        }

        public func next() throws -> Sample? {
            guard index < samples.count else { return nil }
            defer { index += 1 }
            return samples[index]
        }
    }

    /// Writes the caption file and the images into `imageFolder` as `ID.EXT`. Only positive texts
    /// are written (the format has no place for roles); each image's captions are numbered from 0.
    public final class Writer: SampleWriter {
        public let path: String
        public let imageFolder: String
        private let encode: ((RGBImage) throws -> Data)?
        private let file: AtomicFile

        public init(path: String, imageFolder: String, encode: ((RGBImage) throws -> Data)? = nil) throws {
            self.path = path
            self.imageFolder = imageFolder
            self.encode = encode
            file = try AtomicFile(path: path)
        }

        public func write(_ sample: Sample) throws {
            let bytes = try sample.imageBytes(encode: encode)
            let name = SafeFileName.from(sample.id) + "." + (ImageContainer.sniff(bytes)?.fileExtension ?? "bin")
            try AtomicFile.write(bytes, to: imageFolder + "/" + name)
            for (n, text) in sample.positiveTexts.enumerated() {
                let caption = text.text.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ")
                try file.write("\(name)#\(n)\t\(caption)\n")
            }
        }

        @discardableResult
        public func finish() throws -> [String] {
            try file.commit()
            return [path]
        }
    }
}
