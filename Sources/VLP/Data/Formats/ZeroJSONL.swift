import Foundation
import Torch

/// The R2D2 / Zero corpus layout: a jsonl file, one image per line, with its path relative to an
/// image root and its texts.
///
///     {"image_path": "images/0001.jpg", "text": "…"}
///     {"image_path": "images/0002.jpg", "title": "…", "content": "…", "query": "…", "lang": "zh"}
///     {"image_path": "images/0003.jpg", "text": "…", "label": 0}                // matching sets
///     {"id": "s7", "image_path": "…", "texts": [{"text": "…", "kind": "title", "lang": "en",
///                                                 "role": "negative:relation"}]}
///
/// `title`, `content`, `query` and `text` (a caption) may each be a string or a list of strings;
/// `texts` carries per-text language, role and id. Without `id`, a sample's id is `FILE:LINE`.
public enum ZeroJSONL {
    /// Why a record is left out.
    public struct Reason: Error, CustomStringConvertible {
        public var text: String
        public var description: String { text }
    }

    /// The texts of one record, in the order `title`, `content`, `query`, `text`, then `texts`
    /// (empty ones included: callers decide what an empty text means). Shared with the URL-list
    /// reader of `vlp data download`, so both read the same fields.
    public static func texts(in object: [String: Any]) throws(Reason) -> [SampleText] {
        let language = object["lang"] as? String
        var texts: [SampleText] = []
        for (key, kind) in [("title", TextKind.title), ("content", .content), ("query", .query), ("text", .caption)] {
            switch object[key] {
            case nil, is NSNull: break
            case let string as String: texts.append(SampleText(string, kind: kind, language: language))
            case let list as [Any]:
                for item in list {
                    guard let string = item as? String else { throw Reason(text: "\"\(key)\" holds a non-string") }
                    texts.append(SampleText(string, kind: kind, language: language))
                }
            default: throw Reason(text: "\"\(key)\" is neither a string nor a list")
            }
        }
        if let list = object["texts"] {
            guard let list = list as? [Any] else { throw Reason(text: "\"texts\" is not a list") }
            for item in list {
                do { texts.append(try SampleJSON.text(item, defaultLanguage: language)) } catch {
                    throw Reason(text: "\(error)")
                }
            }
        }
        return texts
    }

    public final class Reader: SampleReader {
        public let path: String
        public let imageRoot: String
        public private(set) var skipped: [SkippedRecord] = []
        /// Whether a missing image file makes the record a skip (on by default).
        public var checksImageFiles: Bool
        private let lines: LineReader
        private let fileName: String
        private var ids = DuplicateIDFilter()

        /// - Parameter imageRoot: folder `image_path` is relative to; defaults to the jsonl's folder.
        public init(path: String, imageRoot: String? = nil, checksImageFiles: Bool = true) throws {
            self.path = path
            self.imageRoot = imageRoot ?? URL(fileURLWithPath: path).deletingLastPathComponent().path
            self.checksImageFiles = checksImageFiles
            self.fileName = URL(fileURLWithPath: path).lastPathComponent
            lines = try LineReader(path: path)
        }

        public func next() throws -> Sample? {
            while let line = try lines.nextLine() {
                let number = lines.lineNumber
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                switch parse(line, number: number) {
                case .success(let sample): return sample
                case .failure(let reason): skipped.append(SkippedRecord(file: path, line: number, reason: reason.text))
                }
            }
            return nil
        }

        private func parse(_ line: Data, number: Int) -> Result<Sample, Reason> {
            let object: [String: Any]
            do { object = try SampleJSON.parseObject(line) } catch {
                return .failure(Reason(text: SampleJSON.describe(error)))
            }
            guard let imagePath = object["image_path"] as? String, !imagePath.isEmpty else {
                return .failure(Reason(text: "no \"image_path\" string"))
            }
            let texts: [SampleText]
            do { texts = try ZeroJSONL.texts(in: object) } catch { return .failure(error) }
            let nonEmpty = texts.filter { !$0.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
            guard !nonEmpty.isEmpty else {
                return .failure(Reason(text: texts.isEmpty ? "no text" : "empty text"))
            }
            guard let label = SampleJSON.label(object["label"]) else {
                return .failure(Reason(text: "\"label\" is not an integer"))
            }
            let id = SampleJSON.identifier(object["id"]) ?? "\(fileName):\(number)"
            let fullPath = imagePath.hasPrefix("/") ? imagePath : imageRoot + "/" + imagePath
            if checksImageFiles && !FileManager.default.fileExists(atPath: fullPath) {
                return .failure(Reason(text: "image not found: \(fullPath)"))
            }
            guard ids.admit(id) else { return .failure(Reason(text: "duplicate id \"\(id)\"")) }
            return .success(Sample(id: id, image: .file(fullPath), texts: nonEmpty, label: label))
        }
    }

    /// Writes `FILE` and the images beside it in `images/` (or `imageFolder`), named after the
    /// sample ids. Images given as pixels are encoded with `encode`. Each image file is written
    /// atomically as it comes; the jsonl appears at `finish()`.
    public final class Writer: SampleWriter {
        public let path: String
        public let imageFolder: String
        private let root: String
        private let encode: ((RGBImage) throws -> Data)?
        private let file: AtomicFile
        private var count = 0

        public init(path: String, imageFolder: String = "images", encode: ((RGBImage) throws -> Data)? = nil) throws {
            self.path = path
            self.imageFolder = imageFolder
            self.root = URL(fileURLWithPath: path).deletingLastPathComponent().path
            self.encode = encode
            file = try AtomicFile(path: path)
        }

        public func write(_ sample: Sample) throws {
            let bytes = try sample.imageBytes(encode: encode)
            let ext = ImageContainer.sniff(bytes)?.fileExtension ?? "bin"
            let relative = imageFolder + "/" + SafeFileName.from(sample.id) + "." + ext
            try AtomicFile.write(bytes, to: root + "/" + relative)

            var object: [String: Any] = ["id": sample.id, "image_path": relative]
            if let label = sample.label { object["label"] = label }
            if let fields = Writer.simpleFields(sample.texts) {
                for (key, value) in fields { object[key] = value }
            } else {
                object["texts"] = sample.texts.map(SampleJSON.object)
            }
            try file.write(try SampleJSON.line(object))
            count += 1
        }

        /// `title`/`content`/`query`/`text` fields when the texts need nothing more: originals
        /// without ids, one language (or none), each kind at most once.
        static func simpleFields(_ texts: [SampleText]) -> [String: Any]? {
            let languages = Set(texts.map { $0.language ?? "" })
            guard languages.count <= 1, !texts.isEmpty else { return nil }
            var fields: [String: Any] = [:]
            for text in texts {
                guard text.role == .original, text.id == nil else { return nil }
                let key: String
                switch text.kind {
                case .title: key = "title"
                case .content: key = "content"
                case .query: key = "query"
                case .caption: key = "text"
                case .classPrompt: return nil
                }
                guard fields[key] == nil else { return nil }
                fields[key] = text.text
            }
            if let language = texts[0].language { fields["lang"] = language }
            return fields
        }

        @discardableResult
        public func finish() throws -> [String] {
            try file.commit()
            return [path]
        }
    }
}
