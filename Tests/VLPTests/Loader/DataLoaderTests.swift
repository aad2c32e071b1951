import Foundation
import XCTest
import Torch
@testable import VLP

final class DataLoaderTests: TorchTestCase {
    private func loader(workers: Int = 2, batchSize: Int = 8, seed: UInt64 = 5, shuffle: Bool = true,
                        dropLast: Bool = true, assignment: ShardAssignment? = nil,
                        start: LoaderPosition? = nil, masking: Bool = true) throws -> DataLoader {
        let corpus = try LoaderFixture.corpus.get()
        return try DataLoader(source: .webDataset(shards: corpus.shards),
                              transform: LoaderFixture.transform(masking: masking),
                              options: .init(batchSize: batchSize, workers: workers, shuffle: shuffle, shuffleBufferSize: 16,
                                             dropLast: dropLast, assignment: assignment, progress: false),
                              startingAt: start ?? LoaderPosition(seed: seed))
    }

    func testBatchShapesDtypesAndContents() throws {
        let loader = try loader(batchSize: 8)
        let batch = try XCTUnwrap(try loader.next())
        XCTAssertEqual(batch.images.shape, [8, 3, 24, 24])
        XCTAssertEqual(batch.images.dtype, .float32)
        XCTAssertEqual(batch.imageIDs.shape, [8])
        XCTAssertEqual(batch.imageIDs.dtype, .int64)
        XCTAssertEqual(batch.sampleIDs.count, 8)
        let text = try XCTUnwrap(batch.text)
        for tensor in [text.inputIDs, text.attentionMask, text.tokenTypeIDs, try XCTUnwrap(text.maskedInputIDs), try XCTUnwrap(text.mlmLabels)] {
            XCTAssertEqual(tensor.shape, [8, 24])
            XCTAssertEqual(tensor.dtype, .int64)
        }
        XCTAssertEqual(batch.textKinds.count, 8)
        XCTAssertEqual(batch.texts.count, 8)

        // Every row: [CLS] first, mask 1 exactly where ids are not padding, labels -100 except
        // at changed positions, where they hold the original id.
        let tokenizer = try LoaderFixture.tokenizer.get()
        let ids = try text.inputIDs.toArray(Int64.self), mask = try text.attentionMask.toArray(Int64.self)
        let masked = try text.maskedInputIDs!.toArray(Int64.self), labels = try text.mlmLabels!.toArray(Int64.self)
        var maskedCount = 0
        for row in 0..<8 {
            XCTAssertEqual(ids[row * 24], Int64(tokenizer.classID))
            for i in row * 24..<(row + 1) * 24 {
                XCTAssertEqual(mask[i] == 1, ids[i] != Int64(tokenizer.paddingID))
                if labels[i] == -100 { XCTAssertEqual(masked[i], ids[i]) } else {
                    XCTAssertEqual(labels[i], ids[i]); XCTAssertEqual(masked[i], Int64(tokenizer.maskID)); maskedCount += 1
                }
            }
        }
        XCTAssertGreaterThan(maskedCount, 0)

        // The batch holds what the transform gives for those samples, in order.
        let corpus = try LoaderFixture.corpus.get()
        let transform = try LoaderFixture.transform()
        let images = try batch.images.toArray(Float.self)
        let imageIDs = try batch.imageIDs.toArray(Int64.self)
        for (row, id) in batch.sampleIDs.enumerated() {
            let sample = try XCTUnwrap(corpus.samples.first { $0.id == id })
            var decoded = sample
            decoded.image = .encoded(try sample.imageBytes(encode: ScenesWriter.png))
            let prepared = try transform.prepare(decoded, seed: 5, epoch: 0, source: "test").get()
            XCTAssertEqual(Array(images[row * 3 * 24 * 24..<(row + 1) * 3 * 24 * 24]), prepared.image.values, "sample \(id)")
            XCTAssertEqual(imageIDs[row], prepared.imageID)
            XCTAssertEqual(batch.texts[row], prepared.text?.text)
            XCTAssertTrue(sample.positiveTexts.map(\.text).contains(batch.texts[row]))
        }
    }

    func testSameBatchesForAnyWorkerCount() throws {
        let one = try loader(workers: 1).digestsOfEpoch()
        let two = try loader(workers: 2).digestsOfEpoch()
        let four = try loader(workers: 4).digestsOfEpoch()
        XCTAssertEqual(one.count, LoaderFixture.goodCount / 8)
        XCTAssertEqual(one, two)
        XCTAssertEqual(one, four)
        // Another seed gives another order.
        let other = try loader(workers: 2, seed: 6).digestsOfEpoch()
        XCTAssertNotEqual(one.map(\.sampleIDs), other.map(\.sampleIDs))
    }

    func testEpochsReshuffleAndRedrawTexts() throws {
        let loader = try loader(batchSize: 8)
        let first = try loader.digestsOfEpoch()
        XCTAssertEqual(loader.position, LoaderPosition(seed: 5, epoch: 1))
        let second = try loader.digestsOfEpoch()
        XCTAssertEqual(second.first?.position.epoch, 1)
        XCTAssertNotEqual(first.flatMap(\.sampleIDs), second.flatMap(\.sampleIDs))
        XCTAssertEqual(Set(first.flatMap(\.sampleIDs)), Set(second.flatMap(\.sampleIDs)))
        // The chosen text of a sample changes between epochs for some samples (10 positives each).
        func texts(_ digests: [BatchDigest]) -> [String: [Int64]] {
            var out: [String: [Int64]] = [:]
            for d in digests {
                let length = d.textIDs.count / d.sampleIDs.count
                for (row, id) in d.sampleIDs.enumerated() { out[id] = Array(d.textIDs[row * length..<(row + 1) * length]) }
            }
            return out
        }
        let a = texts(first), b = texts(second)
        XCTAssertGreaterThan(a.keys.filter { a[$0] != b[$0] }.count, a.count / 2)
    }

    func testRankShardingPartitionsTheData() throws {
        let corpus = try LoaderFixture.corpus.get()
        for strategy in [ShardAssignment.Strategy.bySample, .byUnit] {
            var seen: [String] = []
            var counts: [Int] = []
            for rank in 0..<3 {
                let assignment = try ShardAssignment(rank: rank, worldSize: 3, strategy: strategy)
                let ids = try loader(batchSize: 1, dropLast: false, assignment: assignment, masking: false)
                    .digestsOfEpoch().flatMap(\.sampleIDs)
                counts.append(ids.count)
                seen += ids
            }
            XCTAssertEqual(seen.count, Set(seen).count, "\(strategy): a sample went to two ranks")
            XCTAssertEqual(Set(seen), corpus.goodIDs, "\(strategy): not every sample was covered")
            if strategy == .bySample {
                // 53 records = 18 + 18 + 17 positions; the bad ones make the difference at most 3.
                XCTAssertLessThanOrEqual(counts.max()! - counts.min()!, 3)
            }
        }
        XCTAssertThrowsError(try ShardAssignment(rank: 3, worldSize: 3))
        XCTAssertThrowsError(try ShardAssignment(rank: 0, worldSize: 40, strategy: .byUnit)
            .units(corpus.shards, seed: 1, epoch: 0, shuffled: true))
    }

    func testResumeYieldsExactlyTheRemainingBatches() throws {
        let full = try loader(workers: 2, batchSize: 5)
        let epoch0 = try full.digestsOfEpoch()
        let epoch1 = try full.digestsOfEpoch()
        XCTAssertGreaterThan(epoch0.count, 4)
        let all = epoch0 + epoch1

        for cut in [1, 3, epoch0.count - 1, epoch0.count, epoch0.count + 2] {
            // Run until `cut` batches, save the position through JSON, restart elsewhere.
            let interrupted = try loader(workers: 3, batchSize: 5)
            var position = LoaderPosition(seed: 5)
            var taken = 0
            while taken < cut {
                if let batch = try interrupted.next() { position = batch.position; taken += 1 } else { position = interrupted.position }
            }
            if cut == epoch0.count { XCTAssertNil(try interrupted.next()); position = interrupted.position }
            interrupted.stop()
            let saved = try JSONEncoder().encode(position)
            let restored = try JSONDecoder().decode(LoaderPosition.self, from: saved)
            XCTAssertEqual(restored, position)

            let resumed = try loader(workers: 1, batchSize: 5, start: restored)
            var rest: [BatchDigest] = []
            while resumed.position.epoch < 2 {
                while let batch = try resumed.next() { rest.append(try BatchDigest(batch)) }
            }
            XCTAssertEqual(rest.count, all.count - cut, "cut after \(cut) batches")
            XCTAssertEqual(rest, Array(all[cut...]), "cut after \(cut) batches")
        }
    }

    func testBadSamplesAreSkippedCountedAndReported() throws {
        let corpus = try LoaderFixture.corpus.get()
        let loader = try loader(batchSize: 4, dropLast: false)
        let ids = try loader.digestsOfEpoch().flatMap(\.sampleIDs)
        XCTAssertEqual(Set(ids), corpus.goodIDs)
        XCTAssertEqual(ids.count, corpus.goodIDs.count)
        let report = loader.report
        XCTAssertEqual(report.count(.undecodableImage), 3)
        XCTAssertEqual(report.count(.noUsableText), 1)
        XCTAssertEqual(report.count(.unreadableRecord), 1)       // the WebDataset reader drops the empty text
        XCTAssertEqual(report.totalSkipped, 5)
        XCTAssertEqual(report.samplesDelivered, corpus.goodIDs.count)
        let decodeSkips = report.examples.filter { $0.reason == .undecodableImage }
        XCTAssertEqual(Set(decodeSkips.compactMap(\.sampleID)), LoaderFixture.corruptImageIDs)
        for skip in decodeSkips {
            XCTAssertTrue(corpus.shards.contains(skip.file), "\(skip)")
            XCTAssertNotNil(skip.recordIndex)
        }
        let readerSkip = try XCTUnwrap(report.examples.first { $0.reason == .unreadableRecord })
        XCTAssertTrue(corpus.shards.contains(readerSkip.file))
        XCTAssertNotNil(readerSkip.readerLocation)
        XCTAssertTrue(readerSkip.detail.contains("empty text"), readerSkip.detail)
        XCTAssertEqual(report.examples.first { $0.reason == .noUsableText }?.sampleID, LoaderFixture.negativeOnlyID)
        XCTAssertTrue(report.description.contains("undecodable image: 3"), report.description)
    }

    func testPrefetchIsBoundedWhileTheCallerWaits() throws {
        let scenes = try ScenesCorpus(seed: 3, imageSize: 16)
        let samples = (0..<240).map { scenes.sample(.pretrain, index: $0) }
        let transform = try LoaderFixture.transform(masking: false, cropSize: 16)
        let loader = try DataLoader(source: .samples(samples, perUnit: 40), transform: transform,
                                    options: .init(batchSize: 4, workers: 2, shuffleBufferSize: 16, samplesInFlight: 8,
                                                   prefetchBatches: 2, progress: false),
                                    startingAt: LoaderPosition(seed: 1))
        XCTAssertNotNil(try loader.next())
        // The threads run ahead as far as they may (a loaded machine gets up to 10 s to start them).
        let deadline = Date().addingTimeInterval(10)
        while loader.statistics.samplesRead <= 16 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        Thread.sleep(forTimeInterval: 0.3)
        let bound = 16 + 8 + 4 * (2 + 1) + 1 + 4     // buffer + in flight + queued/partial/taken batches + one in hand
        let paused = loader.statistics
        XCTAssertLessThanOrEqual(paused.samplesRead, bound)
        XCTAssertGreaterThan(paused.samplesRead, 16)
        XCTAssertLessThanOrEqual(paused.peakSamplesInFlight, 8)
        XCTAssertEqual(paused.peakBatchesQueued, 2)
        var batches = 1
        while try loader.next() != nil { batches += 1 }
        XCTAssertEqual(batches, 60)
    }

    func testAMissingShardStopsTheEpochNamingIt() throws {
        let corpus = try LoaderFixture.corpus.get()
        let copy = corpus.folder + "/copy-\(UUID().uuidString).tar"
        try FileManager.default.copyItem(atPath: corpus.shards[0], toPath: copy)
        let loader = try DataLoader(source: .webDataset(shards: [copy, corpus.shards[1]]),
                                    transform: LoaderFixture.transform(), options: .init(batchSize: 2, progress: false),
                                    startingAt: LoaderPosition(seed: 2))
        try FileManager.default.removeItem(atPath: copy)
        XCTAssertThrowsError(try loader.digestsOfEpoch()) { error in
            XCTAssertTrue("\(error)".contains(copy), "\(error)")
        }
    }

    func testUnshuffledImageOnlyLoadingKeepsFileOrder() throws {
        let corpus = try LoaderFixture.corpus.get()
        let pipeline = ImagePipeline([try RandomResizedCrop(size: 20)], normalization: .imagenet)
        let loader = try DataLoader(source: .webDataset(shards: corpus.shards),
                                    transform: SampleTransform(image: pipeline, text: nil),
                                    options: .init(batchSize: 7, workers: 3, shuffle: false, dropLast: false, progress: false),
                                    startingAt: LoaderPosition(seed: 9))
        let batches = try loader.digestsOfEpoch()
        XCTAssertTrue(batches.allSatisfy { $0.textIDs.isEmpty })
        let expected = corpus.samples.map(\.id).filter { corpus.goodIDs.contains($0) || $0 == LoaderFixture.negativeOnlyID }
        XCTAssertEqual(batches.flatMap(\.sampleIDs), expected)   // without text, the negative-only sample is fine
        XCTAssertEqual(batches.last?.sampleIDs.count, expected.count % 7 == 0 ? 7 : expected.count % 7)
    }
}
