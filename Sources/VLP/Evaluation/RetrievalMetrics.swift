import Foundation
import Torch

/// Recall at 1, 5 and 10 of one retrieval direction, in percent (0–100).
public struct RecallAtK: Codable, Equatable, Sendable {
    public var r1: Double
    public var r5: Double
    public var r10: Double

    public init(r1: Double, r5: Double, r10: Double) {
        self.r1 = r1
        self.r5 = r5
        self.r10 = r10
    }

    /// (R@1 + R@5 + R@10) / 3, Chinese-CLIP's `mean_recall` of one direction.
    public var mean: Double { (r1 + r5 + r10) / 3 }
}

/// Image→text and text→image recall of one evaluation set, with R2D2's R@M.
public struct RetrievalResult: Codable, Equatable, Sendable {
    public var i2t: RecallAtK
    public var t2i: RecallAtK
    /// R@M: the mean of the six recalls (i2t and t2i at 1, 5, 10).
    public var rmean: Double

    /// A result whose `rmean` is the mean of the six recalls.
    public init(i2t: RecallAtK, t2i: RecallAtK) {
        self.i2t = i2t
        self.t2i = t2i
        self.rmean = (i2t.r1 + i2t.r5 + i2t.r10 + t2i.r1 + t2i.r5 + t2i.r10) / 6
    }
}

/// Recall@K for cross-modal retrieval from an image–text similarity matrix.
///
/// For a query q with relevant candidates G(q), ranked by descending similarity,
///
///   hit@k(q) = 1 if some g ∈ G(q) is among the first k candidates, else 0,
///   R@k      = 100 · Σ_q hit@k(q) / |queries|.
///
/// Image→text: the queries are the images, G(i) = every text of image i. Text→image: the
/// queries are the texts, G(t) = {the image of t}. Every image is a candidate for every text
/// and every text for every image.
///
/// **Ties.** Candidates are ranked by descending score and, among equal scores, by ascending
/// index (the candidate that comes first in the matrix ranks first). This is exactly what
/// Chinese-CLIP's `cn_clip/eval/make_topk_predictions.py` (text→image) and
/// `make_topk_predictions_tr.py` (image→text) produce with
/// `sorted(score_tuples, key=lambda x: x[1], reverse=True)[:k]` — Python's sort is stable and
/// `reverse=True` keeps equal keys in their original order — and those top-10 lists are then
/// scored by `cn_clip/eval/evaluation.py` / `evaluation_tr.py` (`compute_score`) as above.
/// The recall is computed without sorting: a query is a hit at k when fewer than k candidates
/// rank before its best-ranked relevant candidate, which is O(images · texts) per direction.
public enum RetrievalMetrics {
    /// The cutoffs of `RecallAtK`.
    public static let cutoffs = [1, 5, 10]

    /// Recall of both directions.
    ///
    /// - Parameters:
    ///   - similarity: `[images][texts]` row-major scores, `images · texts` values, no NaN.
    ///   - textImage: `textImage[j]` is the index of text j's image; every image needs a text.
    public static func compute(similarity: [Float], images: Int, texts: Int, textImage: [Int]) throws -> RetrievalResult {
        try computeRecall(similarity, images: images, texts: texts, textImage: textImage)
    }

    /// The same from a `[images, texts]` tensor of any floating-point dtype (copied to the
    /// CPU; float64 is ranked in double precision, the others as float32, which holds
    /// float16/bfloat16 exactly).
    public static func compute(similarity: Tensor, textImage: [Int]) throws -> RetrievalResult {
        guard similarity.rank == 2 else {
            throw EvaluationError.badShape("similarity", expected: "[images, texts]", actual: similarity.shape)
        }
        guard similarity.dtype.isFloatingPoint else {
            throw EvaluationError.notFloatingPoint("similarity", dtype: similarity.dtype.description)
        }
        let images = similarity.size(0), texts = similarity.size(1)
        if similarity.dtype == .float64 {
            let values = try similarity.to(device: .cpu).contiguous().toArray(Double.self)
            return try computeRecall(values, images: images, texts: texts, textImage: textImage)
        }
        let values = try similarity.to(.float32, device: .cpu).contiguous().toArray(Float.self)
        return try computeRecall(values, images: images, texts: texts, textImage: textImage)
    }

    /// The indices of the `k` best columns of each row, best first, in the ranking order
    /// described above (descending score, ascending index among ties; NaN ranks last).
    /// `k` is clamped to `0...columns`. `scores` must hold `rows · columns` values.
    public static func topK(_ scores: [Float], rows: Int, columns: Int, k: Int) -> [[Int]] {
        topIndices(scores, rows: rows, columns: columns, k: k)
    }

    /// R@1/5/10 of ranked candidate lists, as `cn_clip/eval/evaluation.py` scores its
    /// prediction file: query q is a hit at k when `rankings[q].prefix(k)` meets `relevant[q]`.
    /// For re-ranked lists (two-stage retrieval); lists shorter than 10 just cannot hit beyond
    /// their length.
    public static func recall(rankings: [[Int]], relevant: [Set<Int>]) throws -> RecallAtK {
        guard !rankings.isEmpty else { throw EvaluationError.empty("rankings") }
        guard relevant.count == rankings.count else {
            throw EvaluationError.countMismatch("relevant sets (one per ranking)", expected: rankings.count, actual: relevant.count)
        }
        var hits = [0, 0, 0]
        for (ranking, gold) in zip(rankings, relevant) {
            guard let first = ranking.firstIndex(where: gold.contains) else { continue }
            for (c, cutoff) in cutoffs.enumerated() where first < cutoff { hits[c] += 1 }
        }
        return percentages(hits, queries: rankings.count)
    }

    // MARK: - Implementation

    /// True when candidate `i` with score `a` ranks before candidate `j` with score `b`:
    /// higher score first, then lower index; NaN after every number.
    @inline(__always)
    static func ranksBefore<Score: BinaryFloatingPoint>(_ a: Score, _ i: Int, _ b: Score, _ j: Int) -> Bool {
        if a.isNaN || b.isNaN {
            if a.isNaN && b.isNaN { return i < j }
            return b.isNaN
        }
        return a > b || (a == b && i < j)
    }

    static func computeRecall<Score: BinaryFloatingPoint>(_ s: [Score], images: Int, texts: Int, textImage: [Int]) throws -> RetrievalResult {
        guard images > 0 else { throw EvaluationError.empty("images") }
        guard texts > 0 else { throw EvaluationError.empty("texts") }
        guard s.count == images * texts else {
            throw EvaluationError.countMismatch("similarity values (images × texts = \(images) × \(texts))",
                                                expected: images * texts, actual: s.count)
        }
        guard textImage.count == texts else {
            throw EvaluationError.countMismatch("textImage entries (one per text)", expected: texts, actual: textImage.count)
        }
        var textsOfImage = [[Int]](repeating: [], count: images)
        for (text, image) in textImage.enumerated() {
            guard (0..<images).contains(image) else {
                throw EvaluationError.textImageOutOfRange(text: text, image: image, images: images)
            }
            textsOfImage[image].append(text)
        }
        if let lonely = textsOfImage.firstIndex(where: \.isEmpty) {
            throw EvaluationError.imageWithoutText(image: lonely)
        }
        if let bad = s.firstIndex(where: \.isNaN) {
            throw EvaluationError.notANumber("similarity", index: bad)
        }

        // Image → text: rank of the image's best-ranked own text within its row.
        var i2tHits = [0, 0, 0]
        for image in 0..<images {
            let row = image * texts
            var best = textsOfImage[image][0]
            for text in textsOfImage[image].dropFirst() where ranksBefore(s[row + text], text, s[row + best], best) {
                best = text
            }
            let rank = countRankedBefore(best, count: texts) { s[row + $0] }
            for (c, cutoff) in cutoffs.enumerated() where rank < cutoff { i2tHits[c] += 1 }
        }

        // Text → image: rank of the text's image within its column, counted row by row so
        // that the matrix is read in memory order.
        let ownScore = (0..<texts).map { s[textImage[$0] * texts + $0] }
        var t2iRanks = [Int](repeating: 0, count: texts)
        for image in 0..<images {
            let row = image * texts
            for text in 0..<texts where image != textImage[text]
                && ranksBefore(s[row + text], image, ownScore[text], textImage[text]) {
                t2iRanks[text] += 1
            }
        }
        var t2iHits = [0, 0, 0]
        for rank in t2iRanks {
            for (c, cutoff) in cutoffs.enumerated() where rank < cutoff { t2iHits[c] += 1 }
        }
        return RetrievalResult(i2t: percentages(i2tHits, queries: images), t2i: percentages(t2iHits, queries: texts))
    }

    /// How many of `0..<count` rank before candidate `target` (its 0-based rank).
    @inline(__always)
    static func countRankedBefore<Score: BinaryFloatingPoint>(_ target: Int, count: Int, score: (Int) -> Score) -> Int {
        let t = score(target)
        var rank = 0
        for other in 0..<count where other != target && ranksBefore(score(other), other, t, target) {
            rank += 1
        }
        return rank
    }

    /// hits / queries · 100 per cutoff, in the operation order of Chinese-CLIP's
    /// `compute_score` (`r1_stat * 1.0 / len(reference)`, then `* 100`).
    static func percentages(_ hits: [Int], queries: Int) -> RecallAtK {
        let p = hits.map { Double($0) / Double(queries) * 100 }
        return RecallAtK(r1: p[0], r5: p[1], r10: p[2])
    }

    static func topIndices<Score: BinaryFloatingPoint>(_ scores: [Score], rows: Int, columns: Int, k: Int) -> [[Int]] {
        precondition(rows >= 0 && columns >= 0 && scores.count == rows * columns,
                     "topK: \(scores.count) scores for \(rows) × \(columns)")
        let k = min(max(k, 0), columns)
        return scores.withUnsafeBufferPointer { all in
            (0..<rows).map { r in
                let row = UnsafeBufferPointer(rebasing: all[(r * columns)..<((r + 1) * columns)])
                return topIndices(row, k: k)
            }
        }
    }

    /// The best `k` indices of one row. A full sort when k is a large part of the row, else a
    /// sorted buffer of k that most candidates leave after one comparison with its last entry.
    static func topIndices<Score: BinaryFloatingPoint>(_ row: UnsafeBufferPointer<Score>, k: Int) -> [Int] {
        guard k > 0 else { return [] }
        if k * 4 >= row.count {
            let order = (0..<row.count).sorted { ranksBefore(row[$0], $0, row[$1], $1) }
            return Array(order.prefix(k))
        }
        var best: [Int] = []
        best.reserveCapacity(k + 1)
        for j in 0..<row.count {
            if best.count == k {
                let last = best[k - 1]
                guard ranksBefore(row[j], j, row[last], last) else { continue }
                best.removeLast()
            }
            // First position whose entry j ranks before (binary search; best is sorted).
            var low = 0, high = best.count
            while low < high {
                let mid = (low + high) / 2
                if ranksBefore(row[j], j, row[best[mid]], best[mid]) { high = mid } else { low = mid + 1 }
            }
            best.insert(j, at: low)
        }
        return best
    }
}
