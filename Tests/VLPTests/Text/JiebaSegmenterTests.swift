import XCTest
@testable import VLP

/// Same segmentation as `jieba.lcut(s)` (default mode, HMM on) on the committed fixtures.
final class JiebaSegmenterTests: TorchTestCase {
    static let segmenter = Result {
        try JiebaSegmenter(dictionaryFile: TextFixtures.asset("jieba/dict.txt"),
                           hmmDirectory: TextFixtures.asset("jieba/finalseg"))
    }

    func testMatchesJiebaOnRealText() throws {
        let segmenter = try Self.segmenter.get()
        var compared = 0, mismatches: [String] = []
        for file in ["zh.jsonl", "tricky.jsonl"] {
            for row in try TextFixtures.rows(file) {
                guard let text = row["text"] as? String, let lengths = row["words"] as? [Int] else { continue }
                compared += 1
                let got = segmenter.cut(text)
                if got.map({ $0.unicodeScalars.count }) != lengths {
                    var expected: [String] = [], rest = Array(text.unicodeScalars)[...]
                    for n in lengths { expected.append(String(String.UnicodeScalarView(rest.prefix(n)))); rest = rest.dropFirst(n) }
                    mismatches.append("expected \(expected)\n  got      \(got)")
                }
            }
        }
        print("jieba parity: \(compared) compared, \(mismatches.count) differ")
        XCTAssertGreaterThanOrEqual(compared, 2000)
        XCTAssert(mismatches.isEmpty, "\(mismatches.count) of \(compared) differ:\n" + mismatches.prefix(8).joined(separator: "\n"))
    }

    func testSpansCoverTheTextInOrder() throws {
        let segmenter = try Self.segmenter.get()
        let text = "我们在北京大学学习自然语言处理，R2D2 模型！\r\n下一行"
        let spans = segmenter.wordSpans(text)
        XCTAssertEqual(spans.first?.lowerBound, 0)
        XCTAssertEqual(spans.last?.upperBound, text.unicodeScalars.count)
        for (a, b) in zip(spans, spans.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
        XCTAssert(segmenter.cut(text).contains("北京大学"))
        XCTAssert(segmenter.cut(text).contains("\r\n"))
    }

    func testHMMFindsUnknownWordsAndDictionaryModeDoesNot() throws {
        // Expected lists from jieba 0.42.1: lcut(s) and lcut(s, HMM=False).
        let segmenter = try Self.segmenter.get()
        XCTAssertEqual(segmenter.cut("他来到了网易杭研大厦"), ["他", "来到", "了", "网易", "杭研", "大厦"])
        XCTAssertEqual(segmenter.cut("他来到了网易杭研大厦", hmm: false), ["他", "来到", "了", "网易", "杭", "研", "大厦"])
        XCTAssertEqual(segmenter.cut("韩冰冰和abc123来了x.5%"), ["韩", "冰冰", "和", "abc123", "来", "了", "x.5%"])
        XCTAssertEqual(segmenter.cut("韩冰冰和abc123来了x.5%", hmm: false),
                       ["韩", "冰冰", "和", "abc123", "来", "了", "x", ".", "5", "%"])
    }

    func testMissingAndMalformedDictionaries() throws {
        XCTAssertThrowsError(try JiebaSegmenter(dictionaryFile: "/nonexistent/dict.txt", hmmDirectory: nil)) { error in
            XCTAssert("\(error)".contains("/nonexistent/dict.txt") && "\(error)".contains("make assets"))
        }
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("jieba-bad-\(UUID()).txt")
        try "北京 100 ns\n大学 many n\n".write(to: bad, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: bad) }
        XCTAssertThrowsError(try JiebaSegmenter(dictionaryFile: bad.path, hmmDirectory: nil)) { error in
            XCTAssertEqual(error as? TextError, .malformedFile(path: bad.path, line: 2, reason: "expected `word frequency [tag]`"))
        }
    }
}
