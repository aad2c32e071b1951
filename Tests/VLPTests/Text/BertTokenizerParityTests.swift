import XCTest
@testable import VLP

/// Same ids as cn-clip's tokenizer (Chinese) and Hugging Face `tokenizers` (English) on the
/// committed real-text fixtures.
final class BertTokenizerParityTests: TorchTestCase {
    static let chinese = Result { try BertTokenizer.chineseCLIP(vocabularyFile: TextFixtures.asset("cn-clip/vocab.txt")) }
    static let english = Result { try BertTokenizer.englishUncased(vocabularyFile: TextFixtures.asset("minilm/vocab.txt")) }

    private func compare(_ tokenizer: BertTokenizer, file: String, key: String, minimum: Int) throws {
        var compared = 0, mismatches: [String] = []
        for row in try TextFixtures.rows(file) {
            guard let text = row["text"] as? String, let expected = TextFixtures.ids(row[key]) else { continue }
            compared += 1
            let got = tokenizer.tokenize(text)
            if got != expected {
                mismatches.append("\(text.debugDescription)\n  expected \(try tokenizer.tokens(for: expected))\n  got      \(try tokenizer.tokens(for: got))")
            }
        }
        print("BERT parity \(file)[\(key)]: \(compared) compared, \(mismatches.count) differ")
        XCTAssertGreaterThanOrEqual(compared, minimum, "\(file): too few sentences compared")
        XCTAssert(mismatches.isEmpty, "\(file)[\(key)]: \(mismatches.count) of \(compared) differ:\n" + mismatches.prefix(10).joined(separator: "\n"))
    }

    func testChineseMatchesCNCLIP() throws {
        try compare(try Self.chinese.get(), file: "zh.jsonl", key: "bert", minimum: 2000)
    }

    func testEnglishMatchesHuggingFace() throws {
        try compare(try Self.english.get(), file: "en.jsonl", key: "bert", minimum: 2000)
    }

    func testTrickyLinesMatchBothReferences() throws {
        try compare(try Self.chinese.get(), file: "tricky.jsonl", key: "bert_zh", minimum: 30)
        try compare(try Self.english.get(), file: "tricky.jsonl", key: "bert_en", minimum: 30)
    }

    func testPairsMatchHuggingFaceTruncationAndPadding() throws {
        let tokenizer = try Self.english.get()
        let rows = try TextFixtures.rows("bert-en-pairs.jsonl")
        XCTAssertEqual(rows.count, 60)
        for row in rows {
            let a = row["a"] as! String, b = row["b"] as! String
            let got = try tokenizer.encode(a, pair: b, maxLength: 24, paddedTo: 32)
            XCTAssertEqual(got.ids, TextFixtures.ids(row["ids"]), "\(a) | \(b)")
            XCTAssertEqual(got.tokenTypeIDs, (row["type_ids"] as! [Int]).map(Int32.init), "\(a) | \(b)")
            XCTAssertEqual(got.attentionMask, (row["attention_mask"] as! [Int]).map(Int32.init), "\(a) | \(b)")
        }
    }
}
