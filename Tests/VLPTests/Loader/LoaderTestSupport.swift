import Foundation
import XCTest
import Torch
@testable import VLP

/// A small Scenes corpus written once per test process as WebDataset shards, with bad records
/// mixed in: corrupt image bytes, a truncated image, an empty text, a sample whose only text is
/// a hard negative.
enum LoaderFixture {
    static let goodCount = 48
    static let samplesPerShard = 8
    /// Ids of the bad records and the reason the loader should give.
    static let corruptImageIDs: Set<String> = ["bad-corrupt-0", "bad-corrupt-1", "bad-truncated"]
    static let negativeOnlyID = "bad-negative-only"
    static let emptyTextID = "bad-empty-text"

    struct Corpus {
        var folder: String
        var shards: [String]
        /// Every sample id the loader should deliver.
        var goodIDs: Set<String>
        var samples: [Sample]
    }

    static let corpus: Result<Corpus, Error> = Result {
        let folder = NSTemporaryDirectory() + "vlp-loader-test-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let scenes = try ScenesCorpus(seed: 21, imageSize: 32)
        var samples = (0..<goodCount).map { scenes.sample(.pretrain, index: $0) }
        let valid = try ScenesWriter.png(scenes.image(scenes.scene(.pretrain, index: 999)))
        let pngSignature = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let text = [SampleText("a red circle", kind: .title, language: "en")]
        // Spread the bad records over the shards.
        samples.insert(Sample(id: "bad-corrupt-0", image: .encoded(pngSignature + Data(repeating: 0x5A, count: 300)), texts: text), at: 3)
        samples.insert(Sample(id: "bad-corrupt-1", image: .encoded(pngSignature + Data((0..<500).map { UInt8($0 % 251) })), texts: text), at: 17)
        samples.insert(Sample(id: "bad-truncated", image: .encoded(valid.prefix(valid.count / 2)), texts: text), at: 30)
        samples.insert(Sample(id: emptyTextID, image: .encoded(valid), texts: [SampleText("   ")]), at: 41)
        samples.insert(Sample(id: negativeOnlyID, image: .encoded(valid),
                              texts: [SampleText("a blue square", kind: .title, language: "en", role: .hardNegative(.attribute))]), at: 44)
        let writer = try WebDataset.Writer(folder: folder, samplesPerShard: samplesPerShard, encode: ScenesWriter.png)
        try writer.write(contentsOf: samples)
        let shards = try writer.finish()
        let good = Set(samples.map(\.id)).subtracting(corruptImageIDs).subtracting([negativeOnlyID, emptyTextID])
        return Corpus(folder: folder, shards: shards, goodIDs: good, samples: samples)
    }

    /// A vocabulary covering every character of the corpus texts: specials, each character,
    /// and `##` + each ASCII letter or digit (so English words split into single letters).
    static let tokenizer: Result<BertTokenizer, Error> = Result {
        let scenes = try ScenesCorpus(seed: 21, imageSize: 32)
        var characters = Set<String>()
        for i in 0..<goodCount {
            for text in scenes.sample(.pretrain, index: i).texts {
                for scalar in text.text.lowercased().unicodeScalars where !scalar.properties.isWhitespace {
                    characters.insert(String(scalar))
                }
            }
        }
        let ascii = "abcdefghijklmnopqrstuvwxyz0123456789".map(String.init)
        let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + characters.union(ascii).sorted() + ascii.map { "##" + $0 }
        return try BertTokenizer(vocabulary: Vocabulary(tokens: tokens), options: .cnCLIP)
    }

    static func transform(contextLength: Int = 24, masking: Bool = true, cropSize: Int = 24) throws -> SampleTransform {
        let tokenizer = try tokenizer.get()
        let pipeline = ImagePipeline([try RandomResizedCrop(size: cropSize, scale: 0.5...1), try HorizontalFlip()],
                                     normalization: .clip)
        let masker = masking ? SampleTransform.Masking(masker: try TokenMasker(tokenizer: tokenizer)) : nil
        return SampleTransform(image: pipeline,
                               text: try .init(tokenizer: tokenizer, contextLength: contextLength, masking: masker))
    }
}

/// A batch reduced to plain values, to compare batches from different loaders.
struct BatchDigest: Equatable {
    var sampleIDs: [String]
    var imageIDs: [Int64]
    var images: [Float]
    var textIDs: [Int64]
    var maskedIDs: [Int64]
    var labels: [Int64]
    var kinds: [TextKind]
    var position: LoaderPosition

    init(_ batch: Batch) throws {
        sampleIDs = batch.sampleIDs
        imageIDs = try batch.imageIDs.toArray(Int64.self)
        images = try batch.images.toArray(Float.self)
        textIDs = try batch.text?.inputIDs.toArray(Int64.self) ?? []
        maskedIDs = try batch.text?.maskedInputIDs?.toArray(Int64.self) ?? []
        labels = try batch.text?.mlmLabels?.toArray(Int64.self) ?? []
        kinds = batch.textKinds
        position = batch.position
    }
}

extension DataLoader {
    /// The digests of the rest of the current epoch.
    func digestsOfEpoch() throws -> [BatchDigest] {
        var digests: [BatchDigest] = []
        while let batch = try next() { digests.append(try BatchDigest(batch)) }
        return digests
    }
}
