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
/// vectors. Ties go to the earlier sample, so the result depends on the samples only.
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
            let vectors = weightedVectors(group.map { words(in: $0.text.text, segmenter: segmenter) })
            // Inverted index: term → (position in group, weight).
            var postings: [Int: [(Int, Float)]] = [:]
            for (position, vector) in vectors.enumerated() {
                for (term, weight) in vector { postings[term, default: []].append((position, weight)) }
            }
            var scores = [Float](repeating: 0, count: group.count)
            for (position, entry) in group.enumerated() {
                for i in scores.indices { scores[i] = 0 }
                for (term, weight) in vectors[position] {
                    for (other, otherWeight) in postings[term] ?? [] { scores[other] += weight * otherWeight }
                }
                let own = Set(samples[entry.sample].positiveTexts.map(\.text))
                var chosen: [SampleText] = []
                var chosenTexts = Set<String>()
                // Best first, ties to the earlier sample.
                let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
                for other in order where chosen.count < count {
                    let candidate = group[other]
                    guard candidate.sample != entry.sample, !own.contains(candidate.text.text),
                          chosenTexts.insert(candidate.text.text).inserted else { continue }
                    chosen.append(SampleText(candidate.text.text, kind: candidate.text.kind, language: candidate.text.language,
                                             role: .retrievedNegative))
                }
                result[entry.sample].texts += chosen
            }
        }
        return result
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

    /// tf · smooth idf per text, L2-normalised, with words numbered in order of appearance.
    static func weightedVectors(_ texts: [[String]]) -> [[Int: Float]] {
        var numbers: [String: Int] = [:]
        let counted = texts.map { words -> [Int: Float] in
            var counts: [Int: Float] = [:]
            for word in words {
                let number = numbers[word] ?? { let n = numbers.count; numbers[word] = n; return n }()
                counts[number, default: 0] += 1
            }
            return counts
        }
        var documentFrequency = [Int: Int]()
        for counts in counted { for term in counts.keys { documentFrequency[term, default: 0] += 1 } }
        let n = Float(texts.count)
        return counted.map { counts in
            var vector = counts
            for (term, tf) in counts { vector[term] = tf * (Foundation.log((1 + n) / (1 + Float(documentFrequency[term]!))) + 1) }
            let norm = vector.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { for term in vector.keys { vector[term]! /= norm } }
            return vector
        }
    }
}
