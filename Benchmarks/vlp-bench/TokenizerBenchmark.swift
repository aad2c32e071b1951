import Foundation
import VLP

/// `vlp-bench tokenizer`: BERT WordPiece on Chinese text, ours against cn-clip's reference
/// tokenizer (Python, `Benchmarks/tokenizer_peer.py`) on the same text in the same run, one
/// core each. Prints characters per second of both and the ratio.
///
/// Run from the repository root after `make assets`. The peer's interpreter is `python3` on
/// PATH, or `$VLP_PEER_PYTHON`; it needs `cn-clip` (`pip install --no-deps cn-clip six`).
enum TokenizerBenchmark {
    static func run() throws {
        let vocabulary = "assets/cn-clip/vocab.txt"
        let tokenizer = try BertTokenizer.chineseCLIP(vocabularyFile: vocabulary)

        // The Chinese sentences of the test fixtures (real text), repeated to ~400k characters.
        let fixture = "Tests/VLPTests/Fixtures/text/zh.jsonl"
        guard let data = FileManager.default.contents(atPath: fixture) else {
            throw BenchmarkError("cannot read \(fixture); run from the repository root")
        }
        var sentences: [String] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            if let text = row?["text"] as? String { sentences.append(text) }
        }
        let corpus = Array(repeating: sentences, count: 8).flatMap { $0 }
        let chars = corpus.reduce(0) { $0 + $1.unicodeScalars.count }

        // Ours: median of 7 runs after a warm-up.
        var idSum = 0
        for sentence in corpus { idSum += tokenizer.tokenize(sentence).reduce(0) { $0 + Int($1) } }
        var seconds: [Double] = []
        for _ in 0..<7 {
            let start = DispatchTime.now().uptimeNanoseconds
            var count = 0
            for sentence in corpus { count &+= tokenizer.tokenize(sentence).count }
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            precondition(count > 0)
        }
        let ours = Double(chars) / median(seconds)

        // The peer on the same lines.
        let corpusFile = FileManager.default.temporaryDirectory.appendingPathComponent("vlp-tokenizer-bench-\(getpid()).txt")
        try corpus.map { $0.replacingOccurrences(of: "\n", with: " ") }.joined(separator: "\n")
            .write(to: corpusFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: corpusFile) }
        let peer = try PythonPeer.run("Benchmarks/tokenizer_peer.py", [vocabulary, corpusFile.path, "3"], defaultPython: "python3",
                                      requirement: "cn-clip and six")
        guard let peerSeconds = peer["seconds"] as? [Double], let peerChars = peer["chars"] as? Int,
              let peerSum = peer["id_sum"] as? Int else {
            throw BenchmarkError("the Python peer's output lacks seconds, chars or id_sum")
        }
        let reference = Double(peerChars) / median(peerSeconds)
        let same = peerSum == idSum ? "same ids" : "DIFFERENT ids (sum \(idSum) vs \(peerSum))"

        print("tokenizer: BERT WordPiece, Chinese, \(corpus.count) sentences, \(chars) characters, one core")
        print(String(format: "  swift-vlp   %12.0f chars/s  (median of %d runs, %.3f s)", ours, seconds.count, median(seconds)))
        print(String(format: "  cn-clip py  %12.0f chars/s  (median of %d runs, %.3f s)", reference, peerSeconds.count, median(peerSeconds)))
        print(String(format: "  ratio       %12.1f×  (%@)", ours / reference, same))

        // jieba: loading the 5 MB dictionary + HMM, and segmenting the same text.
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let segmenter = try JiebaSegmenter()
        let load = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        let cutStart = DispatchTime.now().uptimeNanoseconds
        var words = 0
        for sentence in corpus { words += segmenter.wordSpans(sentence).count }
        let cut = Double(DispatchTime.now().uptimeNanoseconds - cutStart) / 1e9
        print(String(format: "jieba: dictionary + HMM load %.3f s; segmentation %.0f chars/s (%d words)", load, Double(chars) / cut, words))
    }

    private static func median(_ values: [Double]) -> Double { PythonPeer.median(values) }

    struct BenchmarkError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
