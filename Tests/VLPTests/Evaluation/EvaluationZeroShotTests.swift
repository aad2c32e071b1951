import Foundation
import Torch
import XCTest
@testable import VLP

/// Prompt ensembling, logits and top-k accuracy with a fake text encoder whose outputs are known.
final class EvaluationZeroShotTests: TorchTestCase {
    /// Unnormalised features of different lengths, so that averaging before normalising each
    /// template would give other weights.
    static let features: [String: [Float]] = [
        "a cat": [2, 0, 0], "the cat": [0, 3, 0],
        "a dog": [0, 0, 5], "the dog": [0, 0, 0.5],
        "a car": [3, -3, 0], "the car": [0, -1, 0],
    ]

    func fakeEncoder(calls: UnsafeMutablePointer<[[String]]>? = nil) -> ([String]) throws -> Tensor {
        { texts in
            calls?.pointee.append(texts)
            return try Tensor(texts.flatMap { Self.features[$0]! }, shape: [texts.count, 3])
        }
    }

    func rows(_ t: Tensor) throws -> [[Double]] {
        let v = try t.to(.float64).toArray(Double.self), n = t.size(1)
        return stride(from: 0, to: v.count, by: n).map { Array(v[$0..<($0 + n)]) }
    }

    func testPromptEnsemblingNormalisesEachTemplateThenTheMean() throws {
        var calls: [[String]] = []
        let classifier = try withUnsafeMutablePointer(to: &calls) {
            try ZeroShotClassifier(classNames: ["cat", "dog", "car"], templates: ["a {}", "the {}"], encodeTexts: fakeEncoder(calls: $0))
        }
        XCTAssertEqual(calls, [["a cat", "the cat"], ["a dog", "the dog"], ["a car", "the car"]])
        XCTAssertEqual(classifier.classWeights.shape, [3, 3])
        XCTAssertEqual(classifier.classWeights.dtype, .float32)
        let r = 1 / 2.0.squareRoot()
        // car: mean of (r, −r, 0) and (0, −1, 0), renormalised: (cos 67.5°, −sin 67.5°, 0).
        let angle = 67.5 * Double.pi / 180
        let expected: [[Double]] = [[r, r, 0], [0, 0, 1], [cos(angle), -sin(angle), 0]]
        for (got, want) in zip(try rows(classifier.classWeights), expected) {
            for (g, w) in zip(got, want) { XCTAssertEqual(g, w, accuracy: 1e-6) }
        }
    }

    func testLogitsAreCosinesAndTopKAccuracy() throws {
        let classifier = try ZeroShotClassifier(classNames: ["cat", "dog", "car"], templates: ["a {}", "the {}"],
                                                encodeTexts: fakeEncoder())
        let images = try Tensor([10, 10, 0, 0, 0, -2, 1, -3, 0] as [Float], shape: [3, 3])
        let logits = try classifier.logits(imageFeatures: images)
        XCTAssertEqual(logits.shape, [3, 3])
        let weights = try rows(classifier.classWeights)
        let x = try rows(images).map { v in v.map { $0 / (v.map { $0 * $0 }.reduce(0, +)).squareRoot() } }
        for (b, row) in try rows(logits).enumerated() {
            for (c, value) in row.enumerated() {
                XCTAssertEqual(value, zip(x[b], weights[c]).map(*).reduce(0, +), accuracy: 1e-6, "logit [\(b), \(c)]")
            }
        }
        // Row 0 → cat (1.0), row 1 → dog scores −1, the lowest, row 2 → car.
        let result = try classifier.evaluate(imageFeatures: images, labels: [0, 1, 2])
        XCTAssertEqual(result.top1, 200.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(result.top5, 100, "k above the class count counts every row")
        XCTAssertEqual(result.classes, 3)
        XCTAssertEqual(result.images, 3)
        XCTAssertEqual(try ZeroShotClassifier.topKAccuracy(logits: logits, labels: [0, 1, 2], k: 2), 200.0 / 3, accuracy: 1e-12)
        // float64 image features go through the float32 weights.
        XCTAssertEqual(try classifier.logits(imageFeatures: images.to(.float64)).dtype, .float32)
    }

    func testTopKAccuracyBreaksTiesTowardTheLowerClass() throws {
        let logits = try Tensor([0.1, 0.5, 0.2,
                                 0.3, 0.3, 0.1,
                                 0.0, 0.2, 0.9] as [Float], shape: [3, 3])
        // Row 1's label 1 ties with class 0, which ranks first: rank 1. Row 2's label 0 is last.
        let labels = [1, 1, 0]
        XCTAssertEqual(try ZeroShotClassifier.topKAccuracy(logits: logits, labels: labels, k: 1), 100.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(try ZeroShotClassifier.topKAccuracy(logits: logits, labels: labels, k: 2), 200.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(try ZeroShotClassifier.topKAccuracy(logits: logits, labels: labels, k: 3), 100)
        XCTAssertEqual(try ZeroShotClassifier.topKAccuracy(logits: logits, labels: [0, 0, 2], k: 1), 200.0 / 3, accuracy: 1e-12)
    }

    func testFloat64EncoderKeepsDoublePrecision() throws {
        let classifier = try ZeroShotClassifier(classNames: ["cat"], templates: ["a {}"]) { texts in
            try Tensor([Double](repeating: 1, count: texts.count * 4), shape: [texts.count, 4])
        }
        XCTAssertEqual(classifier.classWeights.dtype, .float64)
        XCTAssertEqual(try classifier.classWeights.toArray(Double.self), [0.5, 0.5, 0.5, 0.5])
    }

    func testBadInputsThrow() throws {
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body() } catch { return "\(error)" }
            return "no error"
        }
        XCTAssertEqual(message { try ZeroShotClassifier(classNames: ["cat"], templates: ["a cat"], encodeTexts: self.fakeEncoder()) },
                       "prompt template \"a cat\" has no {} placeholder for the class name")
        XCTAssertEqual(message { try ZeroShotClassifier(classNames: [], templates: ["a {}"], encodeTexts: self.fakeEncoder()) },
                       "class names is empty")
        XCTAssertEqual(message {
            try ZeroShotClassifier(classNames: ["cat"], templates: ["a {}", "the {}"]) { _ in try Tensor.zeros([3, 3]) }
        }, "text features of class \"cat\": expected shape [2, D], got [3, 3]")
        XCTAssertEqual(message {
            var width = 2
            return try ZeroShotClassifier(classNames: ["cat", "dog"], templates: ["a {}"]) { _ in
                width += 1
                return try Tensor.ones([1, width])
            }
        }, "text features of class \"dog\": expected shape [1, 3], got [1, 4]")
        let classifier = try ZeroShotClassifier(classNames: ["cat", "dog", "car"], templates: ["a {}", "the {}"],
                                                encodeTexts: fakeEncoder())
        XCTAssertEqual(message { try classifier.logits(imageFeatures: Tensor.zeros([2, 4])) },
                       "image features: expected shape [B, 3], got [2, 4]")
        let logits = try Tensor.zeros([2, 3])
        XCTAssertEqual(message { try ZeroShotClassifier.topKAccuracy(logits: logits, labels: [0, 3], k: 1) },
                       "label 3 at index 1 is outside 0..<3")
        XCTAssertEqual(message { try ZeroShotClassifier.topKAccuracy(logits: logits, labels: [0], k: 1) },
                       "labels (one per logits row): expected 2, got 1")
        XCTAssertEqual(message { try ZeroShotClassifier.topKAccuracy(logits: logits, labels: [0, 1], k: 0) },
                       "k = 0: k must be at least 1")
        let withNaN = try Tensor([0, 1, 2, 3, .nan, 5] as [Float], shape: [2, 3])
        XCTAssertEqual(message { try ZeroShotClassifier.topKAccuracy(logits: withNaN, labels: [0, 1], k: 1) },
                       "logits holds NaN at index 4")
    }

    func testPromptTemplates() throws {
        XCTAssertEqual(PromptTemplates.fill("a photo of a {}.", with: "cat"), "a photo of a cat.")
        XCTAssertEqual(PromptTemplates.fill("一张{}的照片。", with: "猫"), "一张猫的照片。")
        XCTAssertEqual(try PromptTemplates.templates(language: "en"), PromptTemplates.english)
        XCTAssertEqual(try PromptTemplates.templates(language: "ZH"), PromptTemplates.chinese)
        XCTAssertThrowsError(try PromptTemplates.templates(language: "fr")) {
            XCTAssertEqual("\($0)", "no prompt templates for language \"fr\" (known: en, zh)")
        }
        for template in PromptTemplates.english + PromptTemplates.chinese {
            XCTAssertEqual(template.components(separatedBy: "{}").count, 2, "one placeholder in \(template)")
        }
        XCTAssert((6...10).contains(PromptTemplates.english.count))
        XCTAssert((6...10).contains(PromptTemplates.chinese.count))
        XCTAssertEqual(Set(PromptTemplates.english).count, PromptTemplates.english.count)
        XCTAssertEqual(Set(PromptTemplates.chinese).count, PromptTemplates.chinese.count)
    }
}
