import Foundation
import VLP

/// Zero-style jsonl URL lists: one JSON object a line with the image URL in `url` (or
/// `image_url`) and the texts in the fields `ZeroJSONL` reads — `title`, `content`, `query`,
/// `text` (strings or lists of strings), `texts` (objects with language and role), `lang` —
/// plus an optional `id`. Empty texts are dropped; a row left with none is still fetched (its
/// sample carries no text; `vlp data filter` decides).
///
///     {"id": "z1", "url": "https://…/1.jpg", "title": "…", "content": "…", "query": ["…", "…"], "lang": "zh"}
final class ZeroURLList: URLListReader {
    private let lines: LineReader
    private var row = 0

    init(path: String) throws {
        lines = try LineReader(path: path)
    }

    func next() throws -> URLListEntry? {
        while let line = try lines.nextLine() {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let place = "\(lines.path):\(lines.lineNumber)"
            let value: Any
            do { value = try JSONSerialization.jsonObject(with: line) } catch {
                throw DatasetError.invalidArgument("\(place): not JSON")
            }
            guard let object = value as? [String: Any] else { throw DatasetError.invalidArgument("\(place): not a JSON object") }
            guard let url = (object["url"] ?? object["image_url"]) as? String else {
                throw DatasetError.invalidArgument("\(place): no \"url\" (or \"image_url\") string")
            }
            let texts: [SampleText]
            do { texts = try ZeroJSONL.texts(in: object) } catch {
                throw DatasetError.invalidArgument("\(place): \(error.text)")
            }
            let id: String?
            switch object["id"] {
            case let string as String: id = string
            case let number as NSNumber: id = number.stringValue
            default: id = nil
            }
            defer { row += 1 }
            return URLListEntry(row: row, url: url, texts: texts.filter { !$0.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }, id: id)
        }
        return nil
    }
}
