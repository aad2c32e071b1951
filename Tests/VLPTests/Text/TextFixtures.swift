import Foundation
import XCTest

/// Where the text tests find their inputs: committed fixtures under `Tests/VLPTests/Fixtures/text`
/// and fetched assets under `<repo>/assets`, both located from this file's path.
enum TextFixtures {
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repositoryRoot.appendingPathComponent("Tests/VLPTests/Fixtures/text")

    struct MissingAsset: Error, CustomStringConvertible {
        let path: String
        var description: String { "missing asset \(path): run `make assets` first" }
    }

    /// Path of an asset; a missing one throws, which fails the test (never a skip).
    static func asset(_ relative: String) throws -> String {
        let path = repositoryRoot.appendingPathComponent("assets").appendingPathComponent(relative).path
        guard FileManager.default.fileExists(atPath: path) else { throw MissingAsset(path: path) }
        return path
    }

    /// The rows of a JSON-lines fixture.
    static func rows(_ name: String) throws -> [[String: Any]] {
        let url = fixtures.appendingPathComponent(name)
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw NSError(domain: "TextFixtures", code: 1, userInfo: [NSLocalizedDescriptionKey: "bad row in \(name)"])
            }
            return row
        }
    }

    /// Decodes an id list stored as base64 of little-endian uint16 (see make_text_fixtures.py).
    static func ids(_ value: Any?) -> [Int32]? {
        guard let string = value as? String, let data = Data(base64Encoded: string) else { return nil }
        let bytes = [UInt8](data)
        return stride(from: 0, to: bytes.count, by: 2).map { Int32(UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8) }
    }
}
