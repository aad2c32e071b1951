import Foundation
import Torch

/// The Chinese-CLIP dataset layout, one split per pair of files in a folder:
///
///     {split}_imgs.tsv      image_id<TAB>base64 of the encoded image
///     {split}_texts.jsonl   {"text_id": 8428, "text": "…", "image_ids": [1076345, 517602]}
///
/// A sample is one image with every text that names it (a text naming several images appears
/// in each, with the same text id). Extension keys this project writes and reads back:
/// `kind`, `lang`, `role` on texts, and `label` (a match label for the pair of the text and
/// its images). Images no text names are still samples (with no texts).
public enum ChineseCLIP {
    public static func imagesPath(folder: String, split: String) -> String { folder + "/\(split)_imgs.tsv" }
    public static func textsPath(folder: String, split: String) -> String { folder + "/\(split)_texts.jsonl" }

    /// The splits present in a folder (names with both files), sorted.
    public static func splits(in folder: String) throws -> [String] {
        let names = try DatasetFormat.visibleNames(in: folder)
        let splits = names.compactMap { name -> String? in
            guard name.hasSuffix("_imgs.tsv") else { return nil }
            let split = String(name.dropLast("_imgs.tsv".count))
            return names.contains(split + "_texts.jsonl") ? split : nil
        }
        return splits.sorted()
    }

    public final class Reader: SampleReader {
        public let folder: String
        public let split: String
        public private(set) var skipped: [SkippedRecord] = []
        private let images: LineReader
        private let imagesPath: String
        /// Texts by image id, in file order; labels by image id where given.
        private var textsByImage: [String: [SampleText]] = [:]
        private var labelByImage: [String: Int] = [:]
        private var imageIDs = DuplicateIDFilter()
        private var unseenImages = Set<String>()
        private var textLines: [String: Int] = [:]
        private var isFinished = false

        public init(folder: String, split: String) throws {
            self.folder = folder
            self.split = split
            imagesPath = ChineseCLIP.imagesPath(folder: folder, split: split)
            let textsPath = ChineseCLIP.textsPath(folder: folder, split: split)
            images = try LineReader(path: imagesPath)
            try loadTexts(path: textsPath)
        }

        private func loadTexts(path: String) throws {
            let lines = try LineReader(path: path)
            var textIDs = DuplicateIDFilter()
            while let line = try lines.nextLine() {
                let number = lines.lineNumber
                func skip(_ reason: String) { skipped.append(SkippedRecord(file: path, line: number, reason: reason)) }
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                let object: [String: Any]
                do { object = try SampleJSON.parseObject(line) } catch { skip(SampleJSON.describe(error)); continue }
                guard let textID = SampleJSON.identifier(object["text_id"]) else { skip("no \"text_id\""); continue }
                guard let text = object["text"] as? String else { skip("no \"text\" string"); continue }
                guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { skip("empty text"); continue }
                guard let list = object["image_ids"] as? [Any], !list.isEmpty else { skip("no \"image_ids\" list"); continue }
                let imageIDs = list.compactMap(SampleJSON.identifier)
                guard imageIDs.count == list.count else { skip("\"image_ids\" holds a non-id"); continue }
                var kind = TextKind.caption
                if let name = object["kind"] as? String {
                    guard let parsed = TextKind(rawValue: name) else { skip("unknown text kind \"\(name)\""); continue }
                    kind = parsed
                }
                var role = TextRole.original
                if let name = object["role"] as? String {
                    guard let parsed = TextRole(name: name) else { skip("unknown text role \"\(name)\""); continue }
                    role = parsed
                }
                guard let label = SampleJSON.label(object["label"]) else { skip("\"label\" is not an integer"); continue }
                guard textIDs.admit(textID) else { skip("duplicate text_id \(textID)"); continue }
                let sampleText = SampleText(text, kind: kind, language: object["lang"] as? String, role: role, id: textID)
                for imageID in imageIDs {
                    textsByImage[imageID, default: []].append(sampleText)
                    if let label { labelByImage[imageID] = label }
                    if textLines[imageID] == nil { textLines[imageID] = number }
                }
            }
            unseenImages = Set(textsByImage.keys)
            textsPathForReport = path
        }

        private var textsPathForReport = ""

        public func next() throws -> Sample? {
            while let line = try images.nextText() {
                let number = images.lineNumber
                func skip(_ reason: String) { skipped.append(SkippedRecord(file: imagesPath, line: number, reason: reason)) }
                guard case .text(let text) = line else { skip("not UTF-8"); continue }
                if text.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
                guard let tab = text.firstIndex(of: "\t") else { skip("no tab between id and image"); continue }
                let id = String(text[..<tab]).trimmingCharacters(in: .whitespaces)
                let encoded = text[text.index(after: tab)...].trimmingCharacters(in: .whitespaces)
                guard !id.isEmpty else { skip("empty image id"); continue }
                guard !encoded.isEmpty else { skip("image \(id): no image data"); continue }
                guard let bytes = Base64.decode(encoded) else { skip("image \(id): bad base64"); continue }
                guard imageIDs.admit(id) else { skip("duplicate image id \(id)"); continue }
                unseenImages.remove(id)
                return Sample(id: id, image: .encoded(bytes), texts: textsByImage[id] ?? [], label: labelByImage[id])
            }
            if !isFinished {
                isFinished = true
                for id in unseenImages.sorted(by: { (textLines[$0] ?? 0, $0) < (textLines[$1] ?? 0, $1) }) {
                    skipped.append(SkippedRecord(file: textsPathForReport, line: textLines[id],
                                                 reason: "text names image \(id), which \(imagesPath) lacks"))
                }
            }
            return nil
        }
    }

    /// Writes `{split}_imgs.tsv` and `{split}_texts.jsonl`. Texts are merged by text id, so a text
    /// shared by several samples becomes one line naming all their images; texts without an id
    /// get the next free number. Ids that are integers are written as JSON numbers.
    public final class Writer: SampleWriter {
        public let folder: String
        public let split: String
        private let encode: ((RGBImage) throws -> Data)?
        private let images: AtomicFile
        private var texts: [(text: SampleText, id: String, imageIDs: [String], label: Int?)] = []
        private var textIndex: [String: Int] = [:]
        private var nextTextID = 1
        private var usedTextIDs = Set<String>()

        public init(folder: String, split: String, encode: ((RGBImage) throws -> Data)? = nil) throws {
            self.folder = folder
            self.split = split
            self.encode = encode
            images = try AtomicFile(path: ChineseCLIP.imagesPath(folder: folder, split: split))
        }

        public func write(_ sample: Sample) throws {
            guard !sample.id.contains("\t"), !sample.id.contains("\n") else {
                throw DatasetError.invalidArgument("sample id \(sample.id.debugDescription) holds a tab or newline")
            }
            let bytes = try sample.imageBytes(encode: encode)
            try images.write(sample.id + "\t" + bytes.base64EncodedString() + "\n")
            for text in sample.texts {
                if let id = text.id, let index = textIndex[id] {
                    texts[index].imageIDs.append(sample.id)
                    continue
                }
                let id = text.id ?? freshTextID()
                usedTextIDs.insert(id)
                textIndex[id] = texts.count
                texts.append((text, id, [sample.id], sample.label))
            }
        }

        private func freshTextID() -> String {
            while usedTextIDs.contains(String(nextTextID)) { nextTextID += 1 }
            defer { nextTextID += 1 }
            return String(nextTextID)
        }

        private static func jsonID(_ id: String) -> Any { Int(id).map { $0 as Any } ?? id }

        @discardableResult
        public func finish() throws -> [String] {
            let textsPath = ChineseCLIP.textsPath(folder: folder, split: split)
            let file = try AtomicFile(path: textsPath)
            for entry in texts {
                var object: [String: Any] = [
                    "text_id": Writer.jsonID(entry.id),
                    "text": entry.text.text,
                    "image_ids": entry.imageIDs.map(Writer.jsonID),
                ]
                if entry.text.kind != .caption { object["kind"] = entry.text.kind.rawValue }
                if let language = entry.text.language { object["lang"] = language }
                if entry.text.role != .original { object["role"] = entry.text.role.name }
                if let label = entry.label { object["label"] = label }
                try file.write(try SampleJSON.line(object))
            }
            try images.commit()
            try file.commit()
            return [images.path, textsPath]
        }
    }
}

/// Base64 decoding that accepts both the standard and the URL-safe alphabet, with or without padding.
enum Base64 {
    static func decode(_ text: String) -> Data? {
        var normalized = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let remainder = normalized.utf8.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { normalized += String(repeating: "=", count: 4 - remainder) }
        return Data(base64Encoded: normalized)
    }
}
