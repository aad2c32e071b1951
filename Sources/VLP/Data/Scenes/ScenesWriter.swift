import Foundation
import Torch

/// Writes the Scenes corpus to disk in one of the corpus formats, so that training and
/// evaluation read it through the real readers:
///
///     OUT/manifest.json
///     OUT/pretrain/…   train, valid, test (8:1:1) of `size` items
///     OUT/icm/… OUT/iqm/… OUT/icr/… OUT/iqr/…   each `downstreamSize` items, 8:1:1
///     OUT/<set>/regions/<id>.{features,boxes,classes}.npy   with `writesRegions`
///
/// Within a set, a part is laid out as `DatasetFormat.writer(folder:part:)` says (jsonl:
/// `pretrain/train.jsonl` + `pretrain/images/train/`; cnclip: `pretrain/train_imgs.tsv` +
/// `pretrain/train_texts.jsonl`; webdataset: `pretrain/train/shard-000000.tar`).
public struct ScenesWriter {
    public var corpus: ScenesCorpus
    public var format: DatasetFormat
    public var encode: (RGBImage) throws -> Data
    public var samplesPerShard: Int
    /// Also write each image's regions as the built-in detector sees them (`ScenesDetector`)
    /// into `<set>/regions/` (`RegionFiles`), for single-stream models with MOC.
    public var writesRegions = false

    public init(corpus: ScenesCorpus, format: DatasetFormat, samplesPerShard: Int = 1000,
                encode: @escaping (RGBImage) throws -> Data) throws {
        guard [.jsonl, .cnclip, .webdataset].contains(format) else {
            throw DatasetError.invalidArgument("scenes are written as jsonl, cnclip or webdataset, not \(format.rawValue)")
        }
        self.corpus = corpus
        self.format = format
        self.encode = encode
        self.samplesPerShard = samplesPerShard
    }

    /// What was written: per set and split, the sample count and files.
    public struct Manifest: Codable, Equatable, Sendable {
        public struct Part: Codable, Equatable, Sendable {
            public var set: String
            public var split: String
            public var samples: Int
            public var files: [String]
        }
        public var corpus = "scenes"
        public var seed: UInt64
        public var format: String
        public var imageSize: Int
        public var languages: [String]
        public var size: Int
        public var downstreamSize: Int
        public var parts: [Part]
    }

    /// Writes every set and split into `folder`, then `manifest.json` (paths relative to `folder`).
    @discardableResult
    public func write(to folder: String, size: Int, downstreamSize: Int,
                      sets: [ScenesSet] = ScenesSet.allCases) throws -> Manifest {
        guard size >= 0, downstreamSize >= 0 else { throw DatasetError.invalidArgument("sizes must not be negative") }
        var parts: [Manifest.Part] = []
        for set in sets {
            let count = set == .pretrain ? size : downstreamSize
            for split in DataSplit.allCases {
                let indices = ScenesCorpus.indices(count: count, split: split)
                let writer = try format.writer(folder: folder + "/" + set.rawValue, part: split.rawValue,
                                               encode: encode, samplesPerShard: samplesPerShard)
                let regions = RegionFiles(folder: URL(fileURLWithPath: folder + "/" + set.rawValue + "/regions"))
                for index in indices {
                    let sample = corpus.sample(set, index: index)
                    try writer.write(sample)
                    if writesRegions {
                        // The detector reads the pixels the sample was rendered with.
                        guard case .pixels(let image)? = sample.image else {
                            throw DatasetError.invalidArgument("scenes sample \(sample.id) has no rendered pixels for its regions")
                        }
                        try regions.write(try ScenesDetector.regions(of: corpus.scene(set, index: index), image: image), for: sample.id)
                    }
                }
                let files = try writer.finish().map { path in
                    path.hasPrefix(folder + "/") ? String(path.dropFirst(folder.count + 1)) : path
                }
                parts.append(Manifest.Part(set: set.rawValue, split: split.rawValue, samples: indices.count, files: files))
            }
        }
        let manifest = Manifest(seed: corpus.seed, format: format.rawValue, imageSize: corpus.rasterizer.size,
                                languages: corpus.languages, size: size, downstreamSize: downstreamSize, parts: parts)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(manifest), to: folder + "/manifest.json")
        return manifest
    }

    /// PNG through the Vision encoder: lossless, so the corpus keeps its exact pixels.
    public static func png(_ image: RGBImage) throws -> Data {
        Data(try ImageEncoder.png(image))
    }
}
