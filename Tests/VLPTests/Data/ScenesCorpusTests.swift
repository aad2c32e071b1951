import XCTest
@testable import VLP

final class ScenesCorpusTests: TorchTestCase {
    func testSameSeedSameBytesOtherSeedDiffers() throws {
        let a = try ScenesCorpus(seed: 11, imageSize: 32)
        let b = try ScenesCorpus(seed: 11, imageSize: 32)
        let c = try ScenesCorpus(seed: 12, imageSize: 32)
        for set in ScenesSet.allCases {
            for index in [0, 7, 9] {
                XCTAssertEqual(a.sample(set, index: index), b.sample(set, index: index))
            }
        }
        let differing = (0..<10).filter { a.sample(.pretrain, index: $0) != c.sample(.pretrain, index: $0) }
        XCTAssertGreaterThanOrEqual(differing.count, 9)
        // Items are independent of the order they are made in.
        XCTAssertEqual(a.sample(.icm, index: 5), try ScenesCorpus(seed: 11, imageSize: 32).sample(.icm, index: 5))
    }

    func testWrittenCorpusIsByteIdentical() throws {
        let folder = try makeDataTestFolder()
        let corpus = try ScenesCorpus(seed: 5, imageSize: 24)
        for run in ["a", "b"] {
            let writer = try ScenesWriter(corpus: corpus, format: .webdataset, encode: ScenesWriter.png)
            try writer.write(to: folder + "/" + run, size: 10, downstreamSize: 10, sets: [.pretrain, .icm])
        }
        for file in ["manifest.json", "pretrain/train/shard-000000.tar", "icm/test/shard-000000.tar"] {
            let one = FileManager.default.contents(atPath: folder + "/a/" + file)
            XCTAssertNotNil(one, file)
            XCTAssertEqual(one, FileManager.default.contents(atPath: folder + "/b/" + file), file)
        }
    }

    func testSplitsAreEightOneOne() {
        for count in [10, 100, 250] {
            let sizes = DataSplit.allCases.map { ScenesCorpus.indices(count: count, split: $0).count }
            XCTAssertEqual(sizes, [count * 8 / 10, count / 10, count / 10], "\(count)")
        }
        XCTAssertEqual(ScenesCorpus.indices(count: 20, split: .valid), [8, 18])
    }

    func testMatchingSetsAreHalfPositive() throws {
        let corpus = try ScenesCorpus(seed: 3, imageSize: 16)
        for set in [ScenesSet.icm, .iqm] {
            for split in DataSplit.allCases {
                let samples = corpus.samples(set, count: 100, split: split)
                let positives = samples.filter { $0.label == 1 }, negatives = samples.filter { $0.label == 0 }
                XCTAssertEqual(positives.count, negatives.count, "\(set) \(split)")
                XCTAssertEqual(positives.count + negatives.count, samples.count)
                for sample in samples {
                    XCTAssertEqual(sample.texts.map(\.language), ["zh", "en"])
                    XCTAssertEqual(Set(sample.texts.map(\.kind)), [set == .icm ? .title : .query])
                    XCTAssertEqual(sample.texts.allSatisfy { $0.role.isPositive }, sample.label == 1)
                }
                // A negative is not the image's own text.
                for sample in negatives {
                    let index = Int(sample.id.split(separator: "-").last!)!
                    let own = SceneDescription(scene: corpus.scene(set, index: index))
                    let kind: TextKind = set == .icm ? .title : .query
                    XCTAssertNotEqual(sample.texts[1].text, corpus.text(own, kind, language: "en"))
                    XCTAssertNotEqual(sample.texts[0].text, corpus.text(own, kind, language: "zh"))
                }
            }
        }
        let retrieval = corpus.samples(.icr, count: 20, split: .train)
        XCTAssertTrue(retrieval.allSatisfy { $0.label == nil && $0.texts.count == 2 })
    }

    /// Each rewrite changes its own aspect of the description and nothing else, and in the
    /// English title only the words of that aspect change.
    func testHardNegativesDifferInExactlyTheRewrittenAspect() throws {
        let corpus = try ScenesCorpus(seed: 21)
        let words: [RewriteKind: Set<String>] = [
            .attribute: Set(SceneColor.allCases.map(\.rawValue) + ObjectSize.allCases.map(\.rawValue)),
            .object: Set(SceneShape.allCases.flatMap { [$0.rawValue, SceneCaptioner.English.shape($0, plural: true)] }),
            .relation: ["left", "right", "above", "below"],
            .count: Set(["a"] + (1...9).map(SceneCaptioner.English.number)
                        + SceneShape.allCases.flatMap { [$0.rawValue, SceneCaptioner.English.shape($0, plural: true)] }),
        ]
        var seen: [RewriteKind: Int] = [:]
        for index in 0..<300 {
            let description = SceneDescription(scene: corpus.scene(.pretrain, index: index))
            var rng = SplitMix64(seed: UInt64(index))
            for kind in RewriteKind.allCases {
                guard let rewrite = corpus.rewrite(description, kind: kind, for: .title, using: &rng) else {
                    XCTAssertTrue(kind == .relation && description.relation == nil, "\(kind) unavailable at \(index)")
                    continue
                }
                seen[kind, default: 0] += 1
                XCTAssertEqual(description.differences(from: rewrite.description), [kind.rawValue], "\(index) \(kind)")
                let original = corpus.text(description, .title, language: "en").split(separator: " ")
                let negative = corpus.text(rewrite.description, .title, language: "en").split(separator: " ")
                XCTAssertEqual(original.count, negative.count)
                let changed = zip(original, negative).filter { $0 != $1 }
                XCTAssertFalse(changed.isEmpty)
                for (old, new) in changed {
                    let strip = { (w: Substring) in w.trimmingCharacters(in: .punctuationCharacters).lowercased() }
                    XCTAssertTrue(words[kind]!.contains(strip(old)) && words[kind]!.contains(strip(new)),
                                  "\(kind): \(old) → \(new) in \(original.joined(separator: " "))")
                }
                XCTAssertNotEqual(corpus.text(rewrite.description, .title, language: "zh"),
                                  corpus.text(description, .title, language: "zh"))
            }
        }
        for kind in RewriteKind.allCases { XCTAssertGreaterThan(seen[kind, default: 0], 20, "\(kind)") }
    }

    func testPretrainingTextsCoverKindsRolesAndLanguages() throws {
        let corpus = try ScenesCorpus(seed: 8, imageSize: 16)
        let texts = corpus.pretrainingTexts(corpus.scene(.pretrain, index: 4), index: 4)
        for language in ["zh", "en"] {
            let mine = texts.filter { $0.language == language }
            for kind in [TextKind.title, .content, .query] {
                XCTAssertEqual(mine.filter { $0.kind == kind && $0.role == .original }.count, 1)
            }
            XCTAssertEqual(mine.filter { $0.role == .paraphrase }.count, 2)
            XCTAssertGreaterThanOrEqual(mine.filter { !$0.role.isPositive }.count, 3)
            let originals = Set(mine.filter { $0.role.isPositive }.map(\.text))
            XCTAssertTrue(mine.filter { !$0.role.isPositive }.allSatisfy { !originals.contains($0.text) })
        }
        let english = try ScenesCorpus(seed: 8, imageSize: 16, languages: ["en"])
        XCTAssertTrue(english.pretrainingTexts(english.scene(.pretrain, index: 4), index: 4).allSatisfy { $0.language == "en" })
        XCTAssertThrowsError(try ScenesCorpus(seed: 1, languages: ["fr"]))
    }

    func testSentencesReadNaturally() {
        let description = SceneDescription(background: .grey, groups: [
            ObjectGroup(shape: .circle, color: .red, size: .large, count: 1, cells: [GridCell(column: 0, row: 0)]),
            ObjectGroup(shape: .triangle, color: .green, size: .small, count: 2,
                        cells: [GridCell(column: 1, row: 0), GridCell(column: 1, row: 1)]),
            ObjectGroup(shape: .square, color: .blue, size: .small, count: 1, cells: [GridCell(column: 2, row: 2)]),
        ], relation: SpatialRelation(subject: 0, object: 2, kind: .leftOf))
        XCTAssertEqual(SceneCaptioner.title(description, language: "zh"),
                       "灰色背景上有一个红色的大圆形、两个绿色的小三角形和一个蓝色的小正方形,红色的圆形在蓝色正方形的左边。")
        XCTAssertEqual(SceneCaptioner.title(description, language: "en"),
                       "A large red circle, two small green triangles and a small blue square on a grey background. The red circle is to the left of the blue square.")
        XCTAssertEqual(SceneCaptioner.title(description, language: "en", style: .paraphrase),
                       "On a grey background there is a small blue square, two small green triangles and a large red circle, and the blue square is to the right of the red circle.")
        XCTAssertEqual(SceneCaptioner.title(description, language: "zh", style: .paraphrase),
                       "在灰色的背景上,可以看到一个蓝色的小正方形、两个绿色的小三角形和一个红色的大圆形;蓝色的正方形在红色圆形的右边。")
        XCTAssertEqual(SceneCaptioner.content(description, language: "zh"),
                       "图中共有四个图形:红色的圆形在左上角,两个绿色的三角形分别在上方和中间,蓝色的正方形在右下角。")
        XCTAssertEqual(SceneCaptioner.content(description, language: "en"),
                       "There are four shapes in the picture: the red circle is in the top left corner, the two green triangles are at the top and in the middle, and the blue square is in the bottom right corner.")
        XCTAssertEqual(SceneCaptioner.query(description, language: "zh"), "红色圆形和两个绿色三角形")
        XCTAssertEqual(SceneCaptioner.query(description, language: "en"), "red circle and two green triangles")
    }

    /// The texts are read off the picture: every object's colour is at its centre, its cell holds
    /// it, and the relation agrees with the cells.
    func testTextsAreDeterminedByThePixels() throws {
        let corpus = try ScenesCorpus(seed: 2, imageSize: 48)
        for index in 0..<40 {
            let scene = corpus.scene(.pretrain, index: index)
            let image = corpus.image(scene)
            XCTAssertEqual(image.width, 48)
            for object in scene.objects {
                let cell = 48.0 / 3
                let x = Int((Double(object.cell.column) + 0.5 + object.jitterX) * cell)
                let y = Int((Double(object.cell.row) + 0.5 + object.jitterY) * cell)
                let p = (y * 48 + x) * 3
                let want = object.color.rgb
                for (got, expected) in zip(image.pixels[p..<(p + 3)], [want.r, want.g, want.b]) {
                    XCTAssertLessThanOrEqual(abs(Int(got) - Int(expected)), corpus.rasterizer.noiseAmplitude + 1)
                }
            }
            let description = SceneDescription(scene: scene)
            XCTAssertEqual(description.objectCount, scene.objects.count)
            if let r = description.relation {
                let a = description.groups[r.subject].cells[0], b = description.groups[r.object].cells[0]
                switch r.kind {
                case .leftOf: XCTAssertLessThan(a.column, b.column)
                case .rightOf: XCTAssertGreaterThan(a.column, b.column)
                case .above: XCTAssertTrue(a.column == b.column && a.row < b.row)
                case .below: XCTAssertTrue(a.column == b.column && a.row > b.row)
                }
            }
            XCTAssertTrue((1...4).contains(scene.objects.count))
            XCTAssertEqual(Set(scene.objects.map(\.cell)).count, scene.objects.count)
        }
    }

    func testSynthThenInspectAgree() throws {
        for format in [DatasetFormat.webdataset, .jsonl, .cnclip] {
            let folder = try makeDataTestFolder()
            let corpus = try ScenesCorpus(seed: 9, imageSize: 20)
            let writer = try ScenesWriter(corpus: corpus, format: format, samplesPerShard: 4, encode: ScenesWriter.png)
            let manifest = try writer.write(to: folder, size: 20, downstreamSize: 20)
            let parts = try DatasetFormat.open(folder)
            XCTAssertEqual(Set(parts.map(\.name)), Set(manifest.parts.filter { $0.samples > 0 || format != .webdataset }
                                                        .map { "\($0.set)/\($0.split)" }), "\(format)")
            let stats = try DataStatistics.gather(parts)
            XCTAssertEqual(stats.samples, manifest.parts.reduce(0) { $0 + $1.samples }, "\(format)")
            XCTAssertEqual(stats.samples, 20 + 4 * 20)
            XCTAssertEqual(stats.images, stats.samples)
            XCTAssertEqual(stats.skipped, 0)
            XCTAssertEqual(stats.imageWidth.min, 20)
            XCTAssertEqual(stats.imageHeight.max, 20)
            XCTAssertEqual(stats.imageFormats, ["png": stats.samples])
            XCTAssertEqual(stats.labels, ["0": 20, "1": 20], "\(format)")   // 8+1+1 of each, twice
            let expectedTexts = ScenesSet.allCases.reduce(0) { total, set in
                total + (0..<20).reduce(0) { sum, index in
                    sum + (set == .pretrain ? corpus.pretrainingTexts(corpus.scene(set, index: index), index: index).count : 2)
                }
            }
            XCTAssertEqual(stats.texts, expectedTexts, "\(format)")
            // What comes back is what was made.
            let train = try XCTUnwrap(parts.first { $0.name == "pretrain/train" })
            let again = try DatasetFormat.open(folder).first { $0.name == train.name }!.reader.readAll()
            XCTAssertEqual(again.first?.texts.count, corpus.sample(.pretrain, index: 0).texts.count)
            if case .pixels(let pixels) = corpus.sample(.pretrain, index: 0).image {
                XCTAssertEqual(try again.first?.imageBytes(), try ScenesWriter.png(pixels))
            }
        }
    }
}
