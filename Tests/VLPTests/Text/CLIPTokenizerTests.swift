import XCTest
@testable import VLP

/// Same ids as open_clip's `SimpleTokenizer` on the committed real-text fixtures.
final class CLIPTokenizerTests: TorchTestCase {
    static let tokenizer = Result { try CLIPTokenizer(mergesFile: TextFixtures.asset("open-clip/bpe_simple_vocab_16e6.txt.gz")) }

    /// Compares the fixture rows that have CLIP ids; rows where ftfy repairs mojibake (which we
    /// do not implement) are counted apart and must be few.
    private func compare(_ file: String) throws -> (compared: Int, mojibake: Int) {
        let tokenizer = try Self.tokenizer.get()
        var compared = 0, mojibake = 0, mismatches: [String] = []
        for row in try TextFixtures.rows(file) {
            guard let text = row["text"] as? String, let expected = TextFixtures.ids(row["clip"]) else { continue }
            if row["clip_mojibake"] as? Bool == true { mojibake += 1; continue }
            compared += 1
            let got = tokenizer.tokenize(text)
            if got != expected {
                mismatches.append("\(text.debugDescription) → \(CLIPTextCleaner.clean(text).debugDescription)\n  expected \(try tokenizer.tokens(for: expected))\n  got      \(try tokenizer.tokens(for: got))")
            }
        }
        XCTAssert(mismatches.isEmpty, "\(file): \(mismatches.count) of \(compared) differ:\n" + mismatches.prefix(8).joined(separator: "\n"))
        return (compared, mojibake)
    }

    func testMatchesOpenCLIPOnRealText() throws {
        let zh = try compare("zh.jsonl"), en = try compare("en.jsonl"), tricky = try compare("tricky.jsonl")
        print("CLIP parity: compared zh \(zh.compared), en \(en.compared), tricky \(tricky.compared); mojibake rows left out \(zh.mojibake + en.mojibake + tricky.mojibake)")
        XCTAssertGreaterThanOrEqual(en.compared, 2000)
        XCTAssertGreaterThanOrEqual(zh.compared, 600)
        XCTAssertGreaterThanOrEqual(tricky.compared, 25)
        XCTAssertLessThanOrEqual(zh.mojibake + en.mojibake + tricky.mojibake, 3)
    }

    func testContextRowsMatchOpenCLIP() throws {
        let tokenizer = try Self.tokenizer.get()
        let rows = try TextFixtures.rows("clip-context.jsonl")
        XCTAssertEqual(rows.count, 40)
        for row in rows where row["clip_mojibake"] == nil {
            let text = row["text"] as! String
            XCTAssertEqual(try tokenizer.contextRow(text), TextFixtures.ids(row["ids"]), text)
        }
    }

    func testTruncationKeepsEndTokenAndPadsWithZero() throws {
        let tokenizer = try Self.tokenizer.get()
        let long = try tokenizer.encode(String(repeating: "photo of a cat ", count: 40), maxLength: 77, paddedTo: 77)
        XCTAssertEqual(long.count, 77)
        XCTAssertEqual(long.ids.first, tokenizer.startID)
        XCTAssertEqual(long.ids.last, tokenizer.endID)
        XCTAssertEqual(long.attentionMask, Array(repeating: 1, count: 77))
        let short = try tokenizer.encode("a photo of a cat", maxLength: 77, paddedTo: 77)
        XCTAssertEqual(Array(short.ids.prefix(7)), [tokenizer.startID] + tokenizer.tokenize("a photo of a cat") + [tokenizer.endID])
        XCTAssertEqual(Array(short.ids.suffix(70)), Array(repeating: 0, count: 70))
        XCTAssertEqual(short.attentionMask.reduce(0, +), 7)
        XCTAssertThrowsError(try tokenizer.encode("x", maxLength: 1))
    }

    func testCleanerDecodesEntitiesAndWidthAndQuotes() {
        XCTAssertEqual(CLIPTextCleaner.clean("&lt;b&gt; &amp;amp; &#x4E2D; &EACUTE;"), "<b> & 中 é")
        XCTAssertEqual(CLIPTextCleaner.clean("ＡＢＣ　１２３，\u{201C}hi\u{201D} ﬁ"), "abc 123,\"hi\" fi")
        XCTAssertEqual(CLIPTextCleaner.clean("  ΟΔΟΣ\u{0007}\r\nx "), "οδος\nx".pythonWhitespaceCollapsed())
    }

    /// A merges file holding a prefix of the merges (as small test models use) gives the smaller
    /// vocabulary open_clip's `SimpleTokenizer` reads from it; a file without merges is refused.
    func testAShortMergesFileGivesASmallerVocabulary() throws {
        let folder = try temporaryFolder("clip-merges")
        defer { try? FileManager.default.removeItem(at: folder) }
        let short = folder.appendingPathComponent("merges.txt")
        try "#version: 0.2\nt h\nth e</w>\n".write(to: short, atomically: true, encoding: .utf8)
        let tokenizer = try CLIPTokenizer(mergesFile: short.path)
        XCTAssertEqual(tokenizer.vocabularySize, 512 + 2 + 2)
        XCTAssertEqual(tokenizer.endID, 515)
        XCTAssertEqual(tokenizer.tokenize("the"), [512 + 1])
        try "#version: 0.2\n".write(to: short, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CLIPTokenizer(mergesFile: short.path)) { XCTAssertTrue("\($0)".contains("at least one merge"), "\($0)") }
    }

    func testMissingMergesFileNamesPathAndFix() {
        XCTAssertThrowsError(try CLIPTokenizer(mergesFile: "/nonexistent/bpe.txt.gz")) { error in
            XCTAssertEqual(error as? TextError, .missingFile(path: "/nonexistent/bpe.txt.gz", hint: AssetFile.fetchHint))
            XCTAssert("\(error)".contains("make assets"))
        }
    }
}
