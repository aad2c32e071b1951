import Foundation
import Torch
import VLP

/// R2D2's second stage applied to search results (DESIGN.md §1, two-stage retrieval): the two
/// cross encoders score the query against each of the first stage's candidates, and the
/// candidates are re-ordered by similarity + w · the mean match probability of the two heads —
/// the score `vlp evaluate retrieval --rerank-top-k` ranks by, w the bundle's `rerank_weight`.
/// Only a model with a pair scorer (R2D2's cross encoders) re-ranks.
///
/// Queries are re-ranked together: every distinct text (text queries, candidate texts) is
/// encoded in one text forward, every distinct image (candidate images, query images) in one
/// image forward, and all query–candidate pairs are scored by the cross encoders in chunks of
/// `pairsPerForward`. A candidate image that does not decode fails only the queries that
/// have it among their candidates. Indexed images' states are kept in `cache` (by file), so a
/// candidate seen before is neither decoded nor encoded again.
struct SearchReranker {
    let scorer: any PairScorer
    let embedder: TowerEmbedder
    let weight: Float
    /// States of indexed candidate images from earlier queries; nil keeps none.
    let cache: ImageStateCache?
    /// Most pairs in one cross-encoder forward (bounds the activations' memory).
    var pairsPerForward = 256

    /// One query's first-stage candidates, to be re-ordered.
    struct Request {
        enum Query {
            /// A text query; `images` are the candidates' image files, in the order of `hits`.
            case text(String, images: [URL])
            /// An encoded image query; the candidates are texts (`hits[i].text`).
            case image([UInt8])
        }

        var query: Query
        var hits: [SearchIndex.Hit]
    }

    /// nil when the model has no pair scorer (a dual encoder): search then keeps the first stage's order.
    /// - Parameter cacheBytes: most bytes of indexed images' states kept between queries (0: none).
    init?(_ embedder: TowerEmbedder, weight: Double, cacheBytes: Int = 0) {
        guard let scorer = embedder.model.pairScorer else { return nil }
        self.scorer = scorer
        self.embedder = embedder
        self.weight = Float(weight)
        cache = cacheBytes > 0 ? ImageStateCache(capacityBytes: cacheBytes) : nil
    }

    /// Images found for a text, re-ordered; `images` are the candidates' image files.
    func rerank(text: String, hits: [SearchIndex.Hit], images: [URL]) throws -> [SearchIndex.Hit] {
        try rerank([Request(query: .text(text, images: images), hits: hits)])[0].get()
    }

    /// Texts found for an image (encoded bytes), re-ordered.
    func rerank(image bytes: [UInt8], hits: [SearchIndex.Hit]) throws -> [SearchIndex.Hit] {
        try rerank([Request(query: .image(bytes), hits: hits)])[0].get()
    }

    /// Every request re-ordered, with one text forward, one image forward and as few
    /// cross-encoder forwards as `pairsPerForward` allows for all of them together.
    func rerank(_ requests: [Request]) -> [Result<[SearchIndex.Hit], Error>] {
        var pairs = PairTable()
        for (r, request) in requests.enumerated() where !request.hits.isEmpty {
            switch request.query {
            case .text(let text, let images):
                let t = pairs.text(text)
                for image in images { pairs.add(request: r, text: t, image: pairs.image(.file(image))) }
            case .image(let bytes):
                let i = pairs.image(.encoded(bytes))
                for hit in request.hits { pairs.add(request: r, text: pairs.text(hit.text ?? ""), image: i) }
            }
        }
        var results = requests.map { Result<[SearchIndex.Hit], Error>.success($0.hits) }
        guard !pairs.list.isEmpty else { return results }
        do {
            var cached: [Int: Tensor] = [:]
            if let cache {
                for (i, source) in pairs.images.enumerated() {
                    if case .file(let url) = source, let states = cache.states(for: url.path) { cached[i] = states }
                }
            }
            let (pixels, failures) = decode(pairs.images, skipping: cached)
            for (request, list) in pairs.byRequest {
                if let failure = list.lazy.compactMap({ failures[$0.image] }).first { results[request] = .failure(failure) }
            }
            let scored = pairs.list.indices.filter { results[pairs.list[$0].request].isSuccess }
            let probabilities = try score(scored.map { pairs.list[$0] }, texts: pairs.texts, images: pairs.images,
                                          pixels: pixels, cached: cached)
            var perRequest: [Int: [Float]] = [:]
            for (pair, probability) in zip(scored.map { pairs.list[$0] }, probabilities) { perRequest[pair.request, default: []].append(probability) }
            for (request, values) in perRequest { results[request] = .success(Self.reorder(requests[request].hits, by: values, weight: weight)) }
        } catch {
            for request in pairs.byRequest.keys where results[request].isSuccess { results[request] = .failure(error) }
        }
        return results
    }

    /// Each distinct image preprocessed (nil where it failed or its states are `cached`), and
    /// why the failed ones failed.
    private func decode(_ images: [PairTable.ImageSource], skipping cached: [Int: Tensor]) -> ([[Float]?], [Int: Error]) {
        var generator = SystemRandomNumberGenerator()    // evaluation preprocessing draws nothing
        var failures: [Int: Error] = [:]
        let pixels = images.enumerated().map { i, source -> [Float]? in
            guard cached[i] == nil else { return nil }
            do {
                switch source {
                case .file(let url): return try embedder.pipeline(contentsOf: url.path, using: &generator).values
                case .encoded(let bytes): return try embedder.pipeline(encoded: bytes, source: "the query image", using: &generator).values
                }
            } catch {
                failures[i] = error
                return nil
            }
        }
        return (pixels, failures)
    }

    /// The match probability of each pair, in order. Images with `cached` states are not
    /// encoded; indexed images encoded here join the cache.
    private func score(_ list: [PairTable.Pair], texts: [String], images: [PairTable.ImageSource], pixels: [[Float]?],
                       cached: [Int: Tensor]) throws -> [Float] {
        guard !list.isEmpty else { return [] }
        return try withNoGrad {
            let device = embedder.model.device
            // Only the texts and images some scored pair uses are encoded.
            let usedTexts = Array(Set(list.map(\.text))).sorted(), usedImages = Array(Set(list.map(\.image))).sorted()
            let textRow = Dictionary(uniqueKeysWithValues: usedTexts.enumerated().map { ($1, $0) })
            let imageRow = Dictionary(uniqueKeysWithValues: usedImages.enumerated().map { ($1, $0) })
            let batch = try TextBatch(try usedTexts.map { try embedder.inputs.encode(texts[$0]) }, paddingID: embedder.tokenizer.paddingID, device: device)
            let textStates = try embedder.towers.encodeTexts(batch.inputIDs, attentionMask: batch.attentionMask).states
            let side = embedder.imageSize
            let toEncode = usedImages.filter { cached[$0] == nil }
            var encoded: [Int: Tensor] = [:]
            for start in stride(from: 0, to: toEncode.count, by: embedder.batchSize) {
                let rows = toEncode[start..<min(start + embedder.batchSize, toEncode.count)]
                let values = rows.flatMap { pixels[$0]! }
                let states = try embedder.towers.encodeImages(Tensor(values, shape: [rows.count, 3, side, side]).to(device: device)).states
                for (k, image) in rows.enumerated() {
                    let row = try states.narrowed(dim: 0, start: k, length: 1)
                    encoded[image] = row
                    // A copy that owns its storage, not a view keeping the whole batch alive.
                    if let cache, case .file(let url) = images[image] { cache.insert(try row.clone(), for: url.path) }
                }
            }
            let imageStates = try cat(usedImages.map { cached[$0] ?? encoded[$0]! }, dim: 0)
            var probabilities: [Float] = []
            probabilities.reserveCapacity(list.count)
            for start in stride(from: 0, to: list.count, by: pairsPerForward) {
                let chunk = list[start..<min(start + pairsPerForward, list.count)]
                let t = try Tensor(chunk.map { Int64(textRow[$0.text]!) }, shape: [chunk.count]).to(device: device)
                let i = try Tensor(chunk.map { Int64(imageRow[$0.image]!) }, shape: [chunk.count]).to(device: device)
                probabilities += try scorer.scorePairs(textStates: textStates.indexSelect(dim: 0, t).contiguous(),
                                                       textMask: batch.attentionMask.indexSelect(dim: 0, t).contiguous(),
                                                       imageStates: imageStates.indexSelect(dim: 0, i).contiguous())
                    .matchProbability().to(.float32, device: .cpu).floats()
            }
            return probabilities
        }
    }

    /// Scores become similarity + weight · match probability, best first (ties keep the first
    /// stage's order).
    static func reorder(_ hits: [SearchIndex.Hit], by probabilities: [Float], weight: Float) -> [SearchIndex.Hit] {
        zip(hits, probabilities).enumerated().map { order, pair -> (Int, SearchIndex.Hit) in
            var hit = pair.0
            hit.match = pair.1
            hit.score += weight * pair.1
            return (order, hit)
        }.sorted { $0.1.score != $1.1.score ? $0.1.score > $1.1.score : $0.0 < $1.0 }.map(\.1)
    }
}

/// The pairs of a batch of re-ranking requests over their distinct texts and images: a text
/// or image shared by several queries (a popular candidate, the same query twice) is encoded once.
private struct PairTable {
    enum ImageSource: Hashable {
        case file(URL)
        case encoded([UInt8])
    }

    struct Pair {
        var request: Int
        var text: Int
        var image: Int
    }

    private(set) var texts: [String] = []
    private(set) var images: [ImageSource] = []
    /// The pairs in request order, each request's in its candidates' order.
    private(set) var list: [Pair] = []
    private(set) var byRequest: [Int: [Pair]] = [:]
    private var textIndex: [String: Int] = [:]
    private var imageIndex: [ImageSource: Int] = [:]

    mutating func text(_ text: String) -> Int {
        if let i = textIndex[text] { return i }
        texts.append(text)
        textIndex[text] = texts.count - 1
        return texts.count - 1
    }

    mutating func image(_ source: ImageSource) -> Int {
        if let i = imageIndex[source] { return i }
        images.append(source)
        imageIndex[source] = images.count - 1
        return images.count - 1
    }

    mutating func add(request: Int, text: Int, image: Int) {
        let pair = Pair(request: request, text: text, image: image)
        list.append(pair)
        byRequest[request, default: []].append(pair)
    }
}

private extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
