import Foundation

/// UNIMO's retrieved hard negatives: for each sample, the captions of *other* samples that are
/// most similar to its own by TF-IDF cosine — texts about the same things that do not describe
/// this image, which CMCL puts in the denominator beside the rewritten ones.
///
/// Per language and text kind, the query is the sample's first original text of that kind; the
/// candidates are the other samples' original texts of the same kind and language, except any
/// that equals one of the sample's own positive texts (a shared caption is no negative). Words
/// are jieba's (Chinese) and lower-cased runs of letters and digits (everything else); weights
/// are tf · idf with sklearn's smooth idf, log((1 + N) / (1 + df)) + 1, over L2-normalised
/// vectors, summed in a fixed order. Ties go to the earlier sample, so the result depends on the
/// samples only.
public enum RetrievedNegatives {
    /// `samples` with up to `count` retrieved negatives (role `.retrievedNegative`, the
    /// candidate's kind and language) appended to each, per language and kind it has.
    public static func attach(to samples: [Sample], count: Int, segmenter: JiebaSegmenter) -> [Sample] {
        guard count > 0, samples.count > 1 else { return samples }
        var result = samples
        // One retrieval per (language, kind) present among the originals.
        var groups: [String: [(sample: Int, text: SampleText)]] = [:]
        for (index, sample) in samples.enumerated() {
            var seen = Set<String>()
            for text in sample.texts where text.role == .original {
                let key = "\(text.language ?? "")\u{1}\(text.kind.rawValue)"
                guard !text.text.isEmpty, seen.insert(key).inserted else { continue }
                groups[key, default: []].append((index, text))
            }
        }
        for key in groups.keys.sorted() {
            let group = groups[key]!
            // Equal texts score alike, so retrieval runs over the distinct texts, numbered in order
            // of first appearance (that order breaks ties, as the samples' order would); document
            // frequencies still count every sample's text.
            var distinct: [SampleText] = [], number: [String: Int] = [:], entries: [[Int]] = []
            for (position, entry) in group.enumerated() {
                let n = number[entry.text.text] ?? {
                    number[entry.text.text] = distinct.count
                    distinct.append(entry.text)
                    entries.append([])
                    return distinct.count - 1
                }()
                entries[n].append(position)
            }
            let distinctWords = distinct.map { words(in: $0.text, segmenter: segmenter) }
            let everyVector = weightedVectors(group.map { distinctWords[number[$0.text.text]!] })
            let vectors = entries.map { everyVector[$0[0]] }
            // Inverted index: term → (distinct text, weight).
            var postings: [Int: [(Int, Float)]] = [:]
            for (n, vector) in vectors.enumerated() {
                for (term, weight) in vector { postings[term, default: []].append((n, weight)) }
            }
            var scores = [Float](repeating: 0, count: distinct.count)
            for (query, vector) in vectors.enumerated() {
                for i in scores.indices { scores[i] = 0 }
                for (term, weight) in vector {
                    for (other, otherWeight) in postings[term] ?? [] { scores[other] += weight * otherWeight }
                }
                for position in entries[query] {
                    let sample = group[position].sample
                    let own = Set(samples[sample].positiveTexts.map(\.text))
                    result[sample].texts += best(count, of: scores, skipping: { own.contains(distinct[$0].text) }).map {
                        SampleText(distinct[$0].text, kind: distinct[$0].kind, language: distinct[$0].language, role: .retrievedNegative)
                    }
                }
            }
        }
        return result
    }

    /// The indices of the `count` highest `scores` (ties to the lower index), best first, passing
    /// over those `skipping` refuses — a selection, not a sort: a handful is wanted out of thousands.
    static func best(_ count: Int, of scores: [Float], skipping: (Int) -> Bool) -> [Int] {
        var taken = [Bool](repeating: false, count: scores.count)
        var chosen: [Int] = []
        while chosen.count < count {
            var top = -1
            for i in scores.indices where !taken[i] && (top < 0 || scores[i] > scores[top]) { top = i }
            guard top >= 0 else { break }
            taken[top] = true
            if !skipping(top) { chosen.append(top) }
        }
        return chosen
    }

    /// The words of `text`: jieba's segmentation, lower-cased, keeping words with a letter or
    /// digit (punctuation and spaces drop out).
    static func words(in text: String, segmenter: JiebaSegmenter) -> [String] {
        let scalars = Array(text.unicodeScalars)
        return segmenter.wordSpans(text).compactMap { span -> String? in
            guard span.upperBound <= scalars.count else { return nil }
            var word = String.UnicodeScalarView()
            word.append(contentsOf: scalars[span])
            let lowered = String(word).lowercased()
            return lowered.unicodeScalars.contains(where: { CharacterSet.alphanumerics.contains($0) }) ? lowered : nil
        }
    }

    /// tf · smooth idf per text, L2-normalised, as (word number, weight) in word-number order,
    /// words numbered in order of appearance. Every sum runs in that order, so equal texts get
    /// bit-identical vectors and scores do not depend on a dictionary's iteration order (which
    /// Swift seeds per process and per instance).
    static func weightedVectors(_ texts: [[String]]) -> [[(term: Int, weight: Float)]] {
        var numbers: [String: Int] = [:]
        let counted = texts.map { words -> [(term: Int, weight: Float)] in
            var counts: [Int: Float] = [:]
            for word in words {
                let number = numbers[word] ?? { let n = numbers.count; numbers[word] = n; return n }()
                counts[number, default: 0] += 1
            }
            return counts.map { (term: $0.key, weight: $0.value) }.sorted { $0.term < $1.term }
        }
        var documentFrequency = [Int](repeating: 0, count: numbers.count)
        for counts in counted { for entry in counts { documentFrequency[entry.term] += 1 } }
        let n = Float(texts.count)
        return counted.map { counts in
            let vector = counts.map { (term: $0.term, weight: $0.weight * (Foundation.log((1 + n) / (1 + Float(documentFrequency[$0.term]))) + 1)) }
            let norm = vector.reduce(Float(0)) { $0 + $1.weight * $1.weight }.squareRoot()
            return norm > 0 ? vector.map { (term: $0.term, weight: $0.weight / norm) } : vector
        }
    }
}
