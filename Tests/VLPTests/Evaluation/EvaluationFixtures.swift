import Foundation

/// The reference values of scripts/reference/make_evaluation_fixtures.py
/// (Tests/VLPTests/Fixtures/evaluation/evaluation.json): Chinese-CLIP's recall and
/// scikit-learn's ROC AUC on small deterministic inputs.
struct EvaluationFixture: Decodable {
    struct Recall: Decodable {
        var r1: Double
        var r5: Double
        var r10: Double
    }

    struct Retrieval: Decodable {
        var name: String
        var images: Int
        var texts: Int
        var textImage: [Int]
        /// Float32 values written as exact doubles.
        var similarity: [Double]
        var i2t: Recall
        var t2i: Recall
        var rmean: Double
        var i2tTop10: [[Int]]
        var t2iTop10: [[Int]]

        var floatSimilarity: [Float] { similarity.map(Float.init) }

        /// The matrix as [texts][images].
        var transposedSimilarity: [Float] {
            (0..<texts).flatMap { j in (0..<images).map { i in Float(similarity[i * texts + j]) } }
        }
    }

    struct Matching: Decodable {
        var name: String
        var scores: [Double]
        var labels: [Int]
        var auc: Double
        var bestAccuracy: Double
        var bestThreshold: Double
    }

    var retrieval: [Retrieval]
    var matching: [Matching]

    static let url: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/evaluation/evaluation.json")

    static func load() throws -> EvaluationFixture {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(EvaluationFixture.self, from: Data(contentsOf: url))
    }
}
