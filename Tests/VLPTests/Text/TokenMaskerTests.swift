import XCTest
@testable import VLP

final class TokenMaskerTests: TorchTestCase {
    private func chinese() throws -> BertTokenizer { try BertTokenizerParityTests.chinese.get() }

    func testRatioSpecialTokensAndDeterminism() throws {
        let tokenizer = try chinese()
        let masker = try TokenMasker(tokenizer: tokenizer, ratio: 0.15)
        let rows = try TextFixtures.rows("zh.jsonl").prefix(400).compactMap { $0["text"] as? String }
        var masked = 0, candidates = 0
        for (i, text) in rows.enumerated() {
            let encoded = try tokenizer.encode(text, maxLength: 64, paddedTo: 64)
            let result = masker.mask(encoded, seed: UInt64(i))
            XCTAssertEqual(result, masker.mask(encoded, seed: UInt64(i)), "same seed, same masks")
            for p in 0..<encoded.count {
                let isCandidate = encoded.attentionMask[p] == 1 && !encoded.specialTokensMask[p]
                    && !tokenizer.specialTokenIDs.contains(encoded.ids[p])
                if isCandidate { candidates += 1 }
                if result.labels[p] == TokenMasker.ignoredLabel {
                    XCTAssertEqual(result.inputIDs[p], encoded.ids[p], "unlabelled positions are untouched")
                } else {
                    XCTAssert(isCandidate, "masked a special token or padding in \(text)")
                    XCTAssertEqual(result.labels[p], encoded.ids[p])
                    XCTAssertEqual(result.inputIDs[p], tokenizer.maskID)
                    masked += 1
                }
            }
        }
        let fraction = Double(masked) / Double(candidates)
        XCTAssert(abs(fraction - 0.15) < 0.02, "masked fraction \(fraction)")
        let long = try tokenizer.encode(rows.first { $0.count > 30 }!)
        let distinct = Set((0..<10 as Range<UInt64>).map { masker.mask(long, seed: $0).labels })
        XCTAssertGreaterThan(distinct.count, 5, "different seeds should give different masks")
    }

    func testWholeWordGroupsFollowJiebaAndWordPieces() throws {
        let tokenizer = try chinese()
        let segmenter = try JiebaSegmenterTests.segmenter.get()
        let masker = try TokenMasker(tokenizer: tokenizer, ratio: 0.3)
        let text = "我们在北京大学学习自然语言处理和 pneumonoultramicroscopic 词汇"
        let encoded = try tokenizer.encode(text)
        let spans = segmenter.wordSpans(text)
        let groups = masker.wordGroups(encoded, spans: [spans, nil])
        let tokens = try tokenizer.tokens(for: encoded.ids)
        let words = groups.map { $0.map { tokens[$0] }.joined(separator: " ") }
        XCTAssert(words.contains("北 京 大 学"), "\(words)")
        XCTAssert(words.contains { $0.hasPrefix("p") && $0.contains("##") }, "word pieces grouped: \(words)")
        for seed in 0..<50 as Range<UInt64> {
            let result = masker.mask(encoded, wordSpans: spans, seed: seed)
            for group in groups {
                let maskedInGroup = group.filter { result.labels[$0] != TokenMasker.ignoredLabel }.count
                XCTAssert(maskedInGroup == 0 || maskedInGroup == group.count, "a word was split: seed \(seed)")
            }
        }
        let convenience = masker.mask(encoded, text: text, segmenter: segmenter, seed: 7)
        XCTAssertEqual(convenience, masker.mask(encoded, wordSpans: spans, seed: 7))
    }

    func testBertStrategyMixesMaskRandomAndKept() throws {
        let tokenizer = try chinese()
        let masker = try TokenMasker(tokenizer: tokenizer, ratio: 0.5, strategy: .bert)
        let encoded = try tokenizer.encode(String(repeating: "视觉语言预训练模型学习图文对应关系。", count: 10))
        var counts = (mask: 0, random: 0, kept: 0)
        for seed in 0..<40 as Range<UInt64> {
            let result = masker.mask(encoded, seed: seed)
            for p in 0..<encoded.count where result.labels[p] != TokenMasker.ignoredLabel {
                if result.inputIDs[p] == tokenizer.maskID { counts.mask += 1 }
                else if result.inputIDs[p] == encoded.ids[p] { counts.kept += 1 }
                else {
                    counts.random += 1
                    XCTAssertFalse(tokenizer.specialTokenIDs.contains(result.inputIDs[p]))
                }
            }
        }
        let total = Double(counts.mask + counts.random + counts.kept)
        XCTAssert(abs(Double(counts.mask) / total - 0.8) < 0.04, "\(counts)")
        XCTAssert(abs(Double(counts.random) / total - 0.1) < 0.03, "\(counts)")
        XCTAssert(abs(Double(counts.kept) / total - 0.1) < 0.03, "\(counts)")
    }

    func testPairsAndEdgeCases() throws {
        let tokenizer = try chinese()
        let masker = try TokenMasker(tokenizer: tokenizer, ratio: 0.15)
        let empty = try tokenizer.encode("", paddedTo: 8)
        XCTAssertEqual(masker.mask(empty, seed: 0).labels, Array(repeating: -100, count: 8))
        let short = try tokenizer.encode("猫")
        XCTAssertEqual(masker.mask(short, seed: 0).labels, [-100, short.ids[1], -100], "at least one token")
        XCTAssertThrowsError(try TokenMasker(tokenizer: tokenizer, ratio: 0))
        XCTAssertThrowsError(try TokenMasker(tokenizer: tokenizer, ratio: 1.5))
    }

    func testSplitMix64IsTheReferenceSequence() {
        // First outputs of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        var generator = SplitMix64(seed: 0)
        XCTAssertEqual(generator.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(generator.next(), 0x6E78_9E6A_A1B9_65F4)
    }
}
