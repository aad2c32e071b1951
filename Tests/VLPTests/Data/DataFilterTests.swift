import Foundation
import Torch
import XCTest
@testable import VLP

/// A real PNG of `width`×`height` whose pixels depend on `seed` (different seeds, different bytes).
func filterTestPNG(_ width: Int, _ height: Int, seed: Int) throws -> Data {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            let i = (y * width + x) * 3
            pixels[i] = UInt8(truncatingIfNeeded: x * 3 + seed * 41)
            pixels[i + 1] = UInt8(truncatingIfNeeded: y * 5 + seed * 17)
            pixels[i + 2] = UInt8(truncatingIfNeeded: (x ^ y) + seed * 89)
        }
    }
    return try ScenesWriter.png(RGBImage(width: width, height: height, pixels: pixels))
}

/// A web-like part: good samples, images too small, too wide, corrupt and cut short, noisy,
/// short, long and out-of-vocabulary texts, an alt-text on 11 images and one on exactly 10.
func filterTestWebSamples() throws -> [Sample] {
    func sample(_ id: String, _ image: Data, _ texts: [SampleText]) -> Sample {
        Sample(id: id, image: .encoded(image), texts: texts)
    }
    let longEnglish = "The quick brown fox jumps over the lazy dog while the small grey cat watches from the old wooden fence near the quiet green river today"
    var samples = [
        sample("good", try filterTestPNG(240, 200, seed: 1), [
            SampleText("一只橘色的猫睡在窗台上", kind: .title, language: "zh"),
            SampleText("An orange cat asleep on the windowsill", kind: .title, language: "en"),
            SampleText("黑狗", kind: .query, language: "zh", role: .hardNegative(.object)),
        ]),
        sample("cleaned", try filterTestPNG(300, 300, seed: 2), [
            SampleText("<b>湖边的</b>  秋天 &amp; 红叶 http://img.example.com/a.jpg 风景"),
            SampleText("IMG_2034.JPG"),
            SampleText("!!!!!!"),
            SampleText("哈哈哈哈哈"),
        ]),
        sample("short", try filterTestPNG(200, 200, seed: 3), [
            SampleText("猫"),
            SampleText("a cat"),
            SampleText("草地上的一只小白兔"),
        ]),
        // Shorter side exactly 200 and aspect ratio exactly 3: both bounds are inclusive.
        sample("long", try filterTestPNG(200, 600, seed: 4), [
            SampleText(longEnglish, language: "en"),
            SampleText("夕阳下的海边城市", language: "zh"),
        ]),
        sample("rare", try filterTestPNG(320, 240, seed: 5), [
            SampleText("这是𠀀𠀁𠀂𠀃𠀄的照片"),          // 5 of 10 tokens [UNK]
            SampleText("一张𠀀字的书法作品照片"),        // 1 of 11 tokens [UNK]: rate 0.91
        ]),
        sample("small", try filterTestPNG(199, 400, seed: 6), [SampleText("一只小狗在公园里玩耍")]),
        sample("wide", try filterTestPNG(201, 700, seed: 7), [SampleText("一条长长的海岸线全景")]),
        // PNG's signature, then no header: stored as a .png, unreadable.
        sample("corrupt", Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + Data("this is not an image".utf8),
               [SampleText("一座古老的石桥横跨小河")]),
        // A PNG cut after its header: the size reads, the pixels do not.
        sample("truncated", try filterTestPNG(256, 256, seed: 8).prefix(100), [SampleText("雪山脚下的一片湖泊")]),
        sample("all-bad", try filterTestPNG(210, 210, seed: 9), [
            SampleText("DSC01234"),
            SampleText("a cat"),
            SampleText("一只狗在草地上奔跑", role: .hardNegative(.object)),
        ]),
    ]
    // 11 images share a banner alt-text (the last one in other case and spacing): dropped everywhere.
    samples.append(sample("banner-0", try filterTestPNG(220, 220, seed: 100), [SampleText("点击查看大图 click to enlarge")]))
    for i in 1...10 {
        samples.append(sample("banner-\(i)", try filterTestPNG(220, 220, seed: 100 + i), [
            SampleText(i == 10 ? "点击查看大图  CLICK to Enlarge" : "点击查看大图 click to enlarge"),
            SampleText("第\(i)号展品的近景照片"),
        ]))
    }
    // 10 images share another: at the limit, kept.
    for i in 0..<10 {
        samples.append(sample("hot-\(i)", try filterTestPNG(220, 220, seed: 200 + i), [
            SampleText("本店热销商品 hot sale"),
            SampleText("第\(i)件商品的细节照片"),
        ]))
    }
    return samples
}

/// Writes `samples` as a jsonl part `web` under `folder/in`, plus one unparsable line.
func filterTestWriteJSONL(_ samples: [Sample], folder: String) throws -> String {
    let input = folder + "/in"
    let writer = try ZeroJSONL.Writer(path: input + "/web.jsonl", imageFolder: "images/web")
    try writer.write(contentsOf: samples)
    try writer.finish()
    let handle = try XCTUnwrap(FileHandle(forWritingAtPath: input + "/web.jsonl"))
    handle.seekToEndOfFile()
    handle.write(Data("{not json\n".utf8))
    try handle.close()
    return input
}

/// A randomly initialised tiny dual encoder (image side 32) saved as the run `folder`: a real
/// checkpoint for the scorer, trained on nothing.
@discardableResult
func filterTestCheckpoint(_ folder: String) throws -> PretrainingModel {
    let configuration = try ModelConfigurationRegistry.load("r2d2-tiny-dual")
    manualSeed(7)
    let model = try PretrainingModel(configuration)
    model.module.eval()
    try TrainingCheckpoint.save(in: URL(fileURLWithPath: folder + "/checkpoints"),
                                state: TrainerState(step: 1, stage: 0, stageStep: 1, loaderPosition: LoaderPosition(seed: 1), badSteps: 0, seed: 1),
                                model: model.module, configuration: configuration,
                                bundle: (ModelPreprocessing.trained(configuration: configuration, tokenizer: .bertChinese, contextLength: 32),
                                         URL(fileURLWithPath: TokenizerKind.bertChinese.defaultFile)),
                                optimizer: nil, objectives: [:], keep: 1)
    return model
}

/// An in-memory writer.
final class CollectingWriter: SampleWriter {
    var samples: [Sample] = []
    var finished = false
    func write(_ sample: Sample) throws { samples.append(sample) }
    func finish() throws -> [String] { finished = true; return [] }
}

/// Scores from a table, recording what it was asked.
final class TableScorer: ImageTextScorer {
    let table: [String: Float]
    var calls: [(sizes: [String], texts: [[String]])] = []
    init(_ table: [String: Float]) { self.table = table }
    var imageShortSide: Int? { nil }
    func similarities(images: [RGBImage], texts: [[String]]) throws -> [[Float]] {
        calls.append((images.map { "\($0.width)x\($0.height)" }, texts))
        return texts.map { $0.map { table[$0] ?? 0 } }
    }
}

final class DataFilterTests: TorchTestCase {
    /// One tokenizer and segmenter for the whole class (jieba's dictionary takes a while to load).
    static let tokenizer = Result { try BertTokenizer.chineseCLIP() }
    static let segmenter = Result { try JiebaSegmenter() }

    func makeFilter(_ rules: FilterRules = FilterRules(), scorer: ImageTextScorer? = nil) throws -> DataFilter {
        try DataFilter(rules: rules, tokenizer: try Self.tokenizer.get(), segmenter: try Self.segmenter.get(), scorer: scorer)
    }

    func testDefaultRulesKeepExactlyTheCleanSamplesAndTexts() throws {
        let folder = try makeDataTestFolder()
        let samples = try filterTestWebSamples()
        let input = try filterTestWriteJSONL(samples, folder: folder)
        let filter = try makeFilter()
        var opened = 0
        let writer = try DatasetFormat.jsonl.writer(folder: folder + "/out", part: "web", encode: nil)
        let report = try filter.filter(part: "web", open: {
            opened += 1
            return try DatasetFormat.openPart(input).reader
        }, into: writer)
        XCTAssertEqual(opened, 2, "the frequency rule reads the part twice")

        XCTAssertEqual(report.samplesRead, 31)
        XCTAssertEqual(report.skipped, 1)
        XCTAssertTrue(report.skipExamples.first?.contains("web.jsonl:32") ?? false, "\(report.skipExamples)")
        XCTAssertEqual(report.samplesDropped(by: .unreadableImage), 1)
        XCTAssertEqual(report.samplesDropped(by: .smallImage), 1)
        XCTAssertEqual(report.samplesDropped(by: .extremeAspectRatio), 1)
        XCTAssertEqual(report.samplesDropped(by: .noTextLeft), 2)
        XCTAssertEqual(report.samplesKept, 26)
        XCTAssertEqual(report.textsDropped(by: .noisyText), 4)
        XCTAssertEqual(report.textsDropped(by: .tooFewWords), 3)
        XCTAssertEqual(report.textsDropped(by: .tooManyWords), 1)
        XCTAssertEqual(report.textsDropped(by: .lowVocabularyRate), 1)
        XCTAssertEqual(report.textsDropped(by: .sharedByTooManyImages), 11)
        XCTAssertEqual(report.textsDropped.count, 5, "no other text rule dropped anything: \(report.textsDropped.keys.sorted())")
        XCTAssertEqual(report.samplesDropped.count, 4)
        XCTAssertEqual(report.textsRead, samples.reduce(0) { $0 + $1.texts.count })
        XCTAssertEqual(report.textsKept, 3 + 1 + 1 + 1 + 1 + 1 + 10 + 20)   // good (2 + its negative), cleaned, short, long, rare, truncated, banners, hot
        XCTAssertEqual(report.textsCleaned, 1)
        // Positive texts of every record read; the banner's two spellings count once, and "a cat" (short, all-bad) too.
        XCTAssertEqual(report.distinctTexts, 2 + 4 + 3 + 2 + 2 + 1 + 1 + 1 + 1 + 1 + 11 + 11)
        XCTAssertEqual(report.textsOverFrequencyLimit, 1)
        XCTAssertEqual(report.samplesDropped["small_image"]?.examples, ["small (199×400)"])
        XCTAssertEqual(report.samplesDropped["extreme_aspect_ratio"]?.examples, ["wide (201×700, 3.48:1)"])
        XCTAssertEqual(report.textsDropped["noisy_text"]?.examples,
                       ["cleaned: \"IMG_2034.JPG\" (a camera file name)", "cleaned: \"!!!!!!\" (no letters)",
                        "cleaned: \"哈哈哈哈哈\" (one character repeated)"])
        XCTAssertEqual(report.textsDropped["low_vocabulary_rate"]?.examples, ["rare: \"这是𠀀𠀁𠀂𠀃𠀄的照片\" (vocabulary rate 0.50)"])

        // What was written, read back through the format reader.
        let parts = try DatasetFormat.open(folder + "/out")
        XCTAssertEqual(parts.map(\.name), ["web"])
        let kept = try parts[0].reader.readAll()
        XCTAssertEqual(parts[0].reader.skipped, [])
        XCTAssertEqual(kept.map(\.id), ["good", "cleaned", "short", "long", "rare", "truncated"]
                       + (1...10).map { "banner-\($0)" } + (0..<10).map { "hot-\($0)" })
        let texts = Dictionary(uniqueKeysWithValues: kept.map { ($0.id, $0.texts) })
        XCTAssertEqual(texts["good"], samples[0].texts, "kinds, languages and the hard negative kept as they were")
        XCTAssertEqual(texts["cleaned"]?.map(\.text), ["湖边的 秋天 & 红叶 风景"])
        XCTAssertEqual(texts["short"]?.map(\.text), ["草地上的一只小白兔"])
        XCTAssertEqual(texts["long"]?.map(\.text), ["夕阳下的海边城市"])
        XCTAssertEqual(texts["rare"]?.map(\.text), ["一张𠀀字的书法作品照片"])
        XCTAssertEqual(texts["banner-3"]?.map(\.text), ["第3号展品的近景照片"])
        XCTAssertEqual(texts["hot-0"]?.map(\.text), ["本店热销商品 hot sale", "第0件商品的细节照片"])
        XCTAssertEqual(try kept[0].imageBytes(), try samples[0].imageBytes(), "images are copied byte for byte")
    }

    func testDecodingImagesDropsAnImageCutShort() throws {
        let folder = try makeDataTestFolder()
        let input = try filterTestWriteJSONL(try filterTestWebSamples(), folder: folder)
        var rules = FilterRules()
        rules.decodesImages = true
        let writer = CollectingWriter()
        let report = try makeFilter(rules).filter(part: "web", open: { try DatasetFormat.openPart(input).reader }, into: writer)
        XCTAssertEqual(report.samplesDropped(by: .unreadableImage), 2)
        XCTAssertEqual(report.samplesDropped["unreadable_image"]?.examples.count, 2)
        XCTAssertTrue(report.samplesDropped["unreadable_image"]?.examples[1].hasPrefix("truncated (") ?? false,
                      "\(report.samplesDropped["unreadable_image"]?.examples ?? [])")
        XCTAssertEqual(report.samplesKept, 25)
        XCTAssertFalse(writer.samples.contains { $0.id == "truncated" })
        XCTAssertTrue(writer.finished)
    }

    /// A small real PNG whose header claims 20000×20000 pixels, with a correct CRC: the header
    /// size reads, the loader's decoder refuses it (over `ImageDecoder.defaultMaxPixels`), and
    /// so does the filter with default options, naming the limit; a binary PPM, which the
    /// loader's decoder does not read, likewise. The size header alone passed both once.
    func testHeaderTheLoaderRefusesIsDroppedWithoutDecoding() throws {
        var png = try filterTestPNG(240, 200, seed: 1)
        for (offset, value) in [(16, UInt32(20000)), (20, UInt32(20000))] {
            png.replaceSubrange(offset..<offset + 4, with: withUnsafeBytes(of: value.bigEndian) { Data($0) })
        }
        png.replaceSubrange(29..<33, with: withUnsafeBytes(of: Self.crc32(png[12..<29]).bigEndian) { Data($0) })  // IHDR's CRC
        XCTAssertEqual(ImageSize(header: png), ImageSize(width: 20000, height: 20000))
        var generator = SplitMix64(seed: 1)
        XCTAssertThrowsError(try ImagePipeline.clipTraining(size: 32)(encoded: [UInt8](png), using: &generator)) { error in
            guard case ImageError.tooLarge = error else { return XCTFail("\(error)") }
        }
        let ppm = Data("P6\n240 200\n255\n".utf8) + Data(repeating: 128, count: 240 * 200 * 3)
        XCTAssertEqual(ImageSize(header: ppm), ImageSize(width: 240, height: 200))
        XCTAssertThrowsError(try ImageDecoder().decode(ppm))

        let texts = [SampleText("一只橘色的猫睡在窗台上")]
        let samples = [Sample(id: "bomb", image: .encoded(png), texts: texts), Sample(id: "ppm", image: .encoded(ppm), texts: texts),
                       Sample(id: "good", image: .encoded(try filterTestPNG(240, 200, seed: 2)), texts: texts)]
        // Embedded bytes, and files read through their first 64 KiB (a jsonl part's images).
        let folder = try makeDataTestFolder()
        let input = try filterTestWriteJSONL(samples, folder: folder)
        for open in [{ ArrayReader(samples) as SampleReader }, { try DatasetFormat.openPart(input).reader }] {
            let writer = CollectingWriter()
            let report = try makeFilter().filter(part: "web", open: open, into: writer)
            XCTAssertEqual(writer.samples.map(\.id), ["good"])
            XCTAssertEqual(report.samplesDropped(by: .unreadableImage), 2)
            let examples = report.samplesDropped["unreadable_image"]?.examples ?? []
            XCTAssertTrue(examples.first?.hasPrefix("bomb (") ?? false, "\(examples)")
            XCTAssertTrue(examples.first?.contains("image too large (image of 20000×20000 pixels exceeds the limit of 178956970 pixels)") ?? false, "\(examples)")
            XCTAssertTrue(examples.last?.hasPrefix("ppm (") ?? false, "\(examples)")
            XCTAssertTrue(examples.last?.contains("unknown image format") ?? false, "\(examples)")
        }
    }

    /// A JPEG with padding bytes between two header segments (which libjpeg skips with a
    /// warning) is one the loader reads. Decoding for the check scales a JPEG down 8×; the size
    /// the rules judge is still the file's, so `--decode-images` keeps it as the header path
    /// does (it was judged at 40×30 and dropped as a small image).
    func testDecodingJudgesTheStoredSizeOfAJPEGAtAnyScale() throws {
        var pixels = [UInt8](repeating: 0, count: 320 * 240 * 3)
        for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: i / 3 % 320 + i % 3 * 70) }
        var jpeg = Data(try ImageEncoder.jpeg(RGBImage(width: 320, height: 240, pixels: pixels)))
        XCTAssertEqual(Array(jpeg[2...3]), [0xFF, 0xE0], "the encoder starts with a JFIF APP0 segment")
        jpeg.insert(contentsOf: [0, 0, 0], at: 4 + (Int(jpeg[4]) << 8 | Int(jpeg[5])))
        XCTAssertNil(ImageSize(header: jpeg), "the size-header reader stops at the padding; only the codec reads this header")
        var generator = SplitMix64(seed: 1)
        XCTAssertNoThrow(try ImagePipeline.clipTraining(size: 32)(encoded: [UInt8](jpeg), using: &generator), "the loader reads it")

        let samples = [Sample(id: "padded", image: .encoded(jpeg), texts: [SampleText("一只橘色的猫睡在窗台上")])]
        for decodes in [false, true] {
            var rules = FilterRules()
            rules.decodesImages = decodes
            let writer = CollectingWriter()
            let report = try makeFilter(rules).filter(part: "web", open: { ArrayReader(samples) }, into: writer)
            XCTAssertEqual(writer.samples.map(\.id), ["padded"], "decodes \(decodes): \(report.samplesDropped)")
        }
        guard case .success(let image) = FilterImage.read(.encoded(jpeg), decodes: true, shortSide: 1) else { return XCTFail("unreadable") }
        XCTAssertEqual(image.size, ImageSize(width: 320, height: 240))
        XCTAssertEqual(image.pixels.map { [$0.width, $0.height] }, [40, 30], "decoded at 1/8 scale, as the check needs no more")
    }

    /// PNG's CRC-32 (the zlib polynomial), for crafted chunks.
    static func crc32(_ bytes: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    func testEveryRuleCanBeTurnedOff() throws {
        let samples = try filterTestWebSamples()
        var rules = FilterRules()
        rules.minImageSide = nil
        rules.maxAspectRatio = nil
        rules.cleansTexts = false
        rules.dropsNoisyTexts = false
        rules.minWords = nil
        rules.maxWords = nil
        rules.minVocabularyRate = nil
        rules.maxImagesPerText = nil
        var opened = 0
        let writer = CollectingWriter()
        let filter = try DataFilter(rules: rules, tokenizer: nil, segmenter: nil)
        let report = try filter.filter(part: "all", open: {
            opened += 1
            return ArrayReader(samples)
        }, into: writer)
        XCTAssertEqual(opened, 1, "without the frequency rule the part is read once")
        XCTAssertEqual(report.samplesDropped.keys.sorted(), ["unreadable_image"], "an unreadable image is always dropped")
        XCTAssertEqual(report.textsDropped, [:])
        XCTAssertEqual(writer.samples, samples.filter { $0.id != "corrupt" })
        XCTAssertNil(report.distinctTexts)
    }

    func testCharacterLimitsAndBlockedWords() throws {
        var rules = FilterRules()
        rules.minCharacters = 5
        rules.maxCharacters = 12
        rules.blockedWords = ["代购", "XXX"]
        rules.maxImagesPerText = nil
        let image = Data(try filterTestPNG(200, 200, seed: 1))
        let samples = [Sample(id: "a", image: .encoded(image), texts: [
            SampleText("正品代购 包邮到家"), SampleText("free xxx videos here"), SampleText("小猫"),
            SampleText("一只在阳光下睡觉的橘色小猫咪的照片"), SampleText("阳光下的橘猫"),
        ])]
        let writer = CollectingWriter()
        let report = try makeFilter(rules).filter(part: "p", open: { ArrayReader(samples) }, into: writer)
        XCTAssertEqual(report.textsDropped(by: .blockedWord), 2)
        XCTAssertEqual(report.textsDropped["blocked_word"]?.examples, ["a: \"正品代购 包邮到家\" (holds \"代购\")", "a: \"free xxx videos here\" (holds \"XXX\")"])
        XCTAssertEqual(report.textsDropped(by: .tooFewCharacters), 1)
        XCTAssertEqual(report.textsDropped(by: .tooManyCharacters), 1)
        XCTAssertEqual(writer.samples.first?.texts.map(\.text), ["阳光下的橘猫"])
    }

    func testSemanticScorerThresholdAndKeepBest() throws {
        var rules = FilterRules()
        rules.minSimilarity = 0.2
        rules.keepBest = 2
        rules.maxImagesPerText = nil
        let scorer = TableScorer([
            "湖边的秋天红叶风景": 0.5, "一只猫在窗台上睡觉": 0.1, "远处的雪山和湖泊": 0.3, "湖面上的小船和倒影": 0.3,
            "一辆红色的汽车停在路边": 0.05, "城市夜晚的街道灯光": 0.15,
            "草地上的一只小白兔": 0.9,
        ])
        let samples = [
            Sample(id: "lake", image: .encoded(try filterTestPNG(200, 210, seed: 1)), texts: [
                SampleText("湖边的秋天红叶风景"), SampleText("一只猫在窗台上睡觉"),
                SampleText("远处的雪山和湖泊"), SampleText("湖面上的小船和倒影"),
                SampleText("湖边的春天", role: .hardNegative(.attribute)),
            ]),
            Sample(id: "unrelated", image: .encoded(try filterTestPNG(220, 200, seed: 2)), texts: [
                SampleText("一辆红色的汽车停在路边"), SampleText("城市夜晚的街道灯光"),
            ]),
            Sample(id: "corrupt", image: .encoded(Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3])), texts: [SampleText("草地上的一只小白兔")]),
            Sample(id: "rabbit", image: .encoded(try filterTestPNG(230, 200, seed: 3)), texts: [SampleText("草地上的一只小白兔")]),
        ]
        let filter = try makeFilter(rules, scorer: scorer)
        filter.scoringBatchSize = 2
        let writer = CollectingWriter()
        let report = try filter.filter(part: "p", open: { ArrayReader(samples) }, into: writer)

        XCTAssertEqual(writer.samples.map(\.id), ["lake", "rabbit"])
        // Highest first; of the two at 0.3 the first read wins; the negative is untouched.
        XCTAssertEqual(writer.samples[0].texts.map(\.text), ["湖边的秋天红叶风景", "远处的雪山和湖泊", "湖边的春天"])
        XCTAssertEqual(report.textsDropped(by: .lowSimilarity), 3)
        XCTAssertEqual(report.textsDropped(by: .notAmongBest), 1)
        XCTAssertEqual(report.textsDropped["not_among_best"]?.examples, ["lake: \"湖面上的小船和倒影\" (cosine 0.300, rank 3)"])
        XCTAssertEqual(report.samplesDropped(by: .noTextLeft), 1)
        XCTAssertEqual(report.samplesDropped(by: .unreadableImage), 1, "a corrupt image is found by decoding, which scoring needs")
        // Batches of two samples; decoded images at their full size; negatives never scored.
        XCTAssertEqual(scorer.calls.map(\.sizes), [["200x210", "220x200"], ["230x200"]])
        XCTAssertEqual(scorer.calls[0].texts[0], ["湖边的秋天红叶风景", "一只猫在窗台上睡觉", "远处的雪山和湖泊", "湖面上的小船和倒影"])
    }

    /// A randomly initialised dual encoder, saved and loaded as a checkpoint: the scorer's cosines
    /// equal the towers' features computed one input at a time, and keep-best 1 keeps the argmax.
    func testCheckpointScorerKeepsTheBestTextOfEachImage() throws {
        let started = Date()
        let folder = try makeDataTestFolder()
        let model = try filterTestCheckpoint(folder + "/run")
        let scorer = try CheckpointScorer(checkpoint: folder + "/run", batchSize: 2)
        XCTAssertEqual(scorer.imageShortSide, 32)

        let texts = ["一只橘色的猫睡在窗台上", "an orange cat asleep", "远处的雪山和湖泊倒影", "红色汽车"]
        let images = try (0..<3).map { seed in try ImageDecoder().decode(try filterTestPNG(40 + seed * 8, 36, seed: seed)) }
        let scores = try scorer.similarities(images: images, texts: [texts, Array(texts.prefix(2)), [texts[3]]])

        let towers = try XCTUnwrap(model.towers)
        let pipeline = try ImagePipeline.clipEvaluation(size: 32)
        var generator = SystemRandomNumberGenerator()
        func feature(_ tensor: Tensor) throws -> [Float] { try tensor.floats() }
        let expected: [[Float]] = try withNoGrad {
            let textFeatures = try texts.map { text -> [Float] in
                let batch = try TextBatch([try Self.tokenizer.get().encode(text, maxLength: 64)], paddingID: 0)
                return try feature(towers.encodeTexts(batch.inputIDs, attentionMask: batch.attentionMask).features)
            }
            return try images.enumerated().map { i, image in
                let imageFeature = try feature(towers.encodeImages(Tensor(try pipeline(image, using: &generator).values, shape: [1, 3, 32, 32])).features)
                let indices = i == 0 ? [0, 1, 2, 3] : i == 1 ? [0, 1] : [3]
                return indices.map { j in zip(imageFeature, textFeatures[j]).reduce(0) { $0 + $1.0 * $1.1 } }
            }
        }
        XCTAssertEqual(scores.map(\.count), [4, 2, 1])
        for (row, want) in zip(scores, expected) {
            for (got, value) in zip(row, want) { XCTAssertEqual(got, value, accuracy: 1e-5) }
        }

        var rules = FilterRules()
        rules.keepBest = 1
        rules.maxImagesPerText = nil
        rules.minImageSide = 30
        let samples = images.indices.map { i in
            Sample(id: "s\(i)", image: .pixels(images[i]), texts: texts.map { SampleText($0) })
        }
        let writer = CollectingWriter()
        let report = try makeFilter(rules, scorer: scorer).filter(part: "p", open: { ArrayReader(samples) }, into: writer)
        XCTAssertEqual(report.textsDropped(by: .tooFewWords), 3, "\"红色汽车\" has 2 words")
        XCTAssertEqual(report.textsDropped(by: .notAmongBest), 6)
        XCTAssertEqual(writer.samples.count, 3)
        for (i, sample) in writer.samples.enumerated() {
            let firstThree = try scorer.similarities(images: [images[i]], texts: [Array(texts.prefix(3))])[0]
            let argmax = firstThree.indices.max { firstThree[$0] < firstThree[$1] }!
            XCTAssertEqual(sample.texts.map(\.text), [texts[argmax]], "sample \(i): \(firstThree)")
        }
        print("checkpoint scorer test: \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
    }

    func testTextImageCounterCountsDistinctImagesUpToTheLimit() {
        var counter = TextImageCounter(limit: 2)
        counter.add(text: 1, image: 10)
        counter.add(text: 1, image: 10)
        XCTAssertEqual(counter.imageCount(1), 1, "the same image twice counts once")
        counter.add(text: 1, image: 11)
        XCTAssertFalse(counter.isOverLimit(1))
        counter.add(text: 1, image: 12)
        XCTAssertTrue(counter.isOverLimit(1))
        XCTAssertEqual(counter.imageCount(1), 3)
        counter.add(text: 2, image: 10)
        XCTAssertEqual(counter.textCount, 2)
        XCTAssertEqual(counter.overLimitCount, 1)
        XCTAssertEqual(counter.imageCount(3), 0)
    }

    func testWebTextCleaner() {
        XCTAssertEqual(WebTextCleaner.clean("  <p>Hello&nbsp;<b>world</b></p>\n\n"), "Hello world")
        XCTAssertEqual(WebTextCleaner.clean("a < b and c > d"), "a < b and c > d")
        XCTAssertEqual(WebTextCleaner.clean("see https://example.com/x?y=1 and WWW.Example.org now"), "see and now")
        XCTAssertEqual(WebTextCleaner.clean("秋天\u{3000}的\u{200B}红叶&#x4E86;"), "秋天 的红叶了")
        XCTAssertEqual(WebTextCleaner.clean("Tom &amp; Jerry <!-- ad -->"), "Tom & Jerry")
        XCTAssertEqual(WebTextCleaner.clean("email me at x@shop.com"), "email me at x@shop.com")
    }

    func testNoisyTextHeuristics() {
        XCTAssertEqual(NoisyTextHeuristics.reason("P1010001.jpg"), "a camera file name")
        XCTAssertEqual(NoisyTextHeuristics.reason("img_2034 (2)"), "a camera file name")
        XCTAssertEqual(NoisyTextHeuristics.reason("sunset_beach.JPEG"), "an image file name")
        XCTAssertEqual(NoisyTextHeuristics.reason("2023-05-01"), "no letters")
        XCTAssertEqual(NoisyTextHeuristics.reason(""), "empty after cleaning")
        XCTAssertEqual(NoisyTextHeuristics.reason("sale sale sale"), "one word repeated")
        XCTAssertEqual(NoisyTextHeuristics.reason("zzz"), "one character repeated")
        XCTAssertNil(NoisyTextHeuristics.reason("photo of a cat"))
        XCTAssertNil(NoisyTextHeuristics.reason("Image 3 of the series"))
        XCTAssertNil(NoisyTextHeuristics.reason("一只猫"))
        XCTAssertNil(NoisyTextHeuristics.reason("Dr. Smith"))
    }

    func testWordCountsAndVocabularyRate() throws {
        let segmenter = try Self.segmenter.get(), tokenizer = try Self.tokenizer.get()
        XCTAssertEqual(segmenter.unigramCount(of: "a red circle, left of 2 squares!"), 7)
        XCTAssertEqual(segmenter.unigramCount(of: "我爱北京天安门"), 4)
        XCTAssertEqual(tokenizer.vocabularyRate(of: "一只猫"), 1)
        XCTAssertEqual(tokenizer.vocabularyRate(of: "这是𠀀𠀁𠀂𠀃𠀄的照片"), 0.5)
        XCTAssertEqual(tokenizer.vocabularyRate(of: ""), 0)
    }

    func testMissingHelpersAndBadRulesAreErrorsNamingTheRule() throws {
        var rules = FilterRules()
        XCTAssertThrowsError(try DataFilter(rules: rules, tokenizer: nil, segmenter: try Self.segmenter.get())) { error in
            XCTAssertTrue("\(error)".contains("vocabulary-rate"), "\(error)")
        }
        rules.keepBest = 1
        XCTAssertThrowsError(try makeFilter(rules)) { XCTAssertTrue("\($0)".contains("semantic scorer"), "\($0)") }
        rules.keepBest = nil
        XCTAssertThrowsError(try makeFilter(rules, scorer: TableScorer([:]))) { XCTAssertTrue("\($0)".contains("no rule uses it"), "\($0)") }
        for (change, words) in [({ (r: inout FilterRules) in r.maxAspectRatio = 0.5 }, "aspect ratio"),
                                ({ (r: inout FilterRules) in r.minWords = 30 }, "minimum word count (30) is above the maximum (20)"),
                                ({ (r: inout FilterRules) in r.minVocabularyRate = 1.5 }, "vocabulary rate"),
                                ({ (r: inout FilterRules) in r.maxImagesPerText = 0 }, "images per text"),
                                ({ (r: inout FilterRules) in r.blockedWords = [" "] }, "empty entry")] {
            var bad = FilterRules()
            change(&bad)
            XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains(words), "\($0)") }
        }
    }
}

/// A reader over samples held in memory.
final class ArrayReader: SampleReader {
    private var samples: IndexingIterator<[Sample]>
    let skipped: [SkippedRecord] = []
    init(_ samples: [Sample]) { self.samples = samples.makeIterator() }
    func next() throws -> Sample? { samples.next() }
}
