import XCTest
@testable import VLP

final class BertTokenizerTests: TorchTestCase {
    /// A tiny vocabulary: ids in the order written.
    private func tiny() throws -> BertTokenizer {
        let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "hello", "world",
                      ",", "!", "中", "文", "a", "##b", "cafe"]
        return try BertTokenizer(vocabulary: Vocabulary(tokens: tokens), options: .cnCLIP)
    }

    func testBasicTokenizationAndWordPiece() throws {
        let t = try tiny()
        XCTAssertEqual(t.words(in: "Hello,\tWORLD!\u{0}中文 Café"), ["hello", ",", "world", "!", "中", "文", "cafe"])
        XCTAssertEqual(try t.tokens(for: t.tokenize("unaffable unaffablex")), ["un", "##aff", "##able", "[UNK]"])
        XCTAssertEqual(try t.tokens(for: t.tokenize("abbb")), ["a", "##b", "##b", "##b"])
        XCTAssertEqual(t.tokenize(String(repeating: "a", count: 201)), [t.unknownID], "longer than 200 → [UNK]")
    }

    func testSingleWithTruncationAndPadding() throws {
        let t = try tiny()
        let e = try t.encode("hello world!", maxLength: 4, paddedTo: 6)
        XCTAssertEqual(try t.tokens(for: e.ids), ["[CLS]", "hello", "world", "[SEP]", "[PAD]", "[PAD]"])
        XCTAssertEqual(e.attentionMask, [1, 1, 1, 1, 0, 0])
        XCTAssertEqual(e.tokenTypeIDs, [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(e.specialTokensMask, [true, false, false, true, true, true])
        XCTAssertEqual(e.sourceOffsets, [-1, 0, 6, -1, -1, -1])
        XCTAssertThrowsError(try t.encode("hello", maxLength: 1))
    }

    func testPairLongestFirstTruncation() throws {
        let t = try tiny()
        let e = try t.encode("hello hello hello hello", pair: "world ,", maxLength: 7)
        XCTAssertEqual(try t.tokens(for: e.ids), ["[CLS]", "hello", "hello", "[SEP]", "world", ",", "[SEP]"])
        XCTAssertEqual(e.tokenTypeIDs, [0, 0, 0, 0, 1, 1, 1])
        // Both long: half each, the longer one (or the second on a tie) gets the odd token.
        XCTAssertEqual(BertTokenizer.truncatedLengths(10, 10, budget: 15, isPair: true).0, 7)
        XCTAssertEqual(BertTokenizer.truncatedLengths(10, 10, budget: 15, isPair: true).1, 8)
        XCTAssertEqual(BertTokenizer.truncatedLengths(12, 3, budget: 10, isPair: true).0, 7)
        XCTAssertEqual(BertTokenizer.truncatedLengths(12, 3, budget: 10, isPair: true).1, 3)
        XCTAssertEqual(BertTokenizer.truncatedLengths(3, 4, budget: 10, isPair: true).0, 3)
    }

    func testChineseCLIPContextRowsAsCNCLIPTokenize() throws {
        // cn_clip.clip.tokenize(text, 52): [CLS] + ids[:50] + [SEP], zero-padded to 52.
        let t = try BertTokenizerParityTests.chinese.get()
        let text = String(repeating: "图文检索", count: 20)
        let row = try t.encode(text, maxLength: 52, paddedTo: 52)
        XCTAssertEqual(row.ids, [t.classID] + Array(t.tokenize(text).prefix(50)) + [t.separatorID])
        XCTAssertEqual(try t.encode("猫", maxLength: 52, paddedTo: 52).ids.suffix(49), Array(repeating: 0, count: 49)[...])
        XCTAssertEqual(t.vocabularySize, 21128)
        XCTAssertEqual(try BertTokenizerParityTests.english.get().vocabularySize, 30522)
    }

    func testMissingEmptyAndIncompleteVocabularies() throws {
        XCTAssertThrowsError(try BertTokenizer.chineseCLIP(vocabularyFile: "/nonexistent/vocab.txt")) { error in
            XCTAssertEqual(error as? TextError, .missingFile(path: "/nonexistent/vocab.txt", hint: AssetFile.fetchHint))
            XCTAssert("\(error)".contains("make assets"))
        }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-vocab-\(UUID()).txt")
        try Data().write(to: empty)
        defer { try? FileManager.default.removeItem(at: empty) }
        XCTAssertThrowsError(try BertTokenizer(vocabularyFile: empty.path)) { error in
            XCTAssertEqual(error as? TextError, .malformedFile(path: empty.path, line: nil, reason: "the vocabulary is empty"))
        }
        XCTAssertThrowsError(try BertTokenizer(vocabulary: Vocabulary(tokens: ["[PAD]", "[UNK]", "[CLS]"]), source: "v.txt")) { error in
            XCTAssertEqual(error as? TextError, .missingSpecialToken(token: "[SEP]", vocabulary: "v.txt"))
        }
        XCTAssertThrowsError(try tiny().tokens(for: [99]))
    }
}
