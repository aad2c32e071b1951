import Foundation
import XCTest
@testable import VLP

final class LoaderPartsTests: TorchTestCase {
    func testShuffleBufferPermutesDeterministically() {
        func run(_ capacity: Int, seed: UInt64) -> [Int] {
            var buffer = ShuffleBuffer<Int>(capacity: capacity, generator: SplitMix64(seed: seed))
            var out: [Int] = []
            for i in 0..<100 { if let x = buffer.push(i) { out.append(x) } }
            XCTAssertLessThanOrEqual(buffer.count, capacity)
            while let x = buffer.drain() { out.append(x) }
            return out
        }
        XCTAssertEqual(run(1, seed: 1), Array(0..<100))
        let a = run(10, seed: 1)
        XCTAssertEqual(a.sorted(), Array(0..<100))
        XCTAssertNotEqual(a, Array(0..<100))
        XCTAssertEqual(a, run(10, seed: 1))
        XCTAssertNotEqual(a, run(10, seed: 2))
        // A bounded buffer cannot move an item earlier than capacity places before its arrival.
        for (position, item) in a.enumerated() { XCTAssertGreaterThanOrEqual(position, item - 10) }
    }

    func testUnitOrderIsSeededPerEpoch() throws {
        let units = (0..<12).map { "shard-\($0).tar" }
        let assignment = try ShardAssignment()
        let e0 = try assignment.units(units, seed: 3, epoch: 0, shuffled: true)
        XCTAssertEqual(e0.sorted(), units.sorted())
        XCTAssertEqual(e0, try assignment.units(units, seed: 3, epoch: 0, shuffled: true))
        XCTAssertNotEqual(e0, try assignment.units(units, seed: 3, epoch: 1, shuffled: true))
        XCTAssertEqual(try assignment.units(units, seed: 3, epoch: 0, shuffled: false), units)
        var dealt: [String] = []
        for rank in 0..<4 {
            dealt += try ShardAssignment(rank: rank, worldSize: 4, strategy: .byUnit).units(units, seed: 3, epoch: 0, shuffled: true)
        }
        XCTAssertEqual(dealt.sorted(), units.sorted())
    }

    func testSampleTransformSkipsSamplesWithoutUsableText() throws {
        let transform = try LoaderFixture.transform()
        let image = ImagePayload.pixels(RGBImage(width: 32, height: 32, fill: (r: 200, g: 10, b: 10)))
        let onlyNegative = Sample(id: "n", image: image, texts: [SampleText("a", role: .hardNegative(.object))])
        let blank = Sample(id: "b", image: image, texts: [SampleText(" \n")])
        let noImage = Sample(id: "i", image: nil, texts: [SampleText("a red circle")])
        for (sample, reason) in [(onlyNegative, SkipReason.noUsableText), (blank, .noUsableText), (noImage, .missingImage)] {
            guard case .failure(let problem) = transform.prepare(sample, seed: 1, epoch: 0, source: "x") else {
                return XCTFail("\(sample.id) was not skipped")
            }
            XCTAssertEqual(problem.reason, reason)
        }
        // The same image bytes give the same image id; other bytes another.
        let good = Sample(id: "g", image: image, texts: [SampleText("a red circle")])
        var twin = good
        twin.id = "g2"
        let other = Sample(id: "o", image: .pixels(RGBImage(width: 32, height: 32, fill: (r: 0, g: 10, b: 10))), texts: good.texts)
        let ids = try [good, twin, other].map { try transform.prepare($0, seed: 1, epoch: 0, source: "x").get().imageID }
        XCTAssertEqual(ids[0], ids[1])
        XCTAssertNotEqual(ids[0], ids[2])
        XCTAssertGreaterThanOrEqual(ids[0], 0)
    }

    func testProgressLineAndPositionChecks() throws {
        let bar = ProgressBar(label: "epoch 3", total: 8, forced: false)
        XCTAssertFalse(bar.isEnabled)
        let line = bar.line(done: 4, items: 100)
        XCTAssertTrue(line.hasPrefix("epoch 3 [############............] 4/8 batches"), line)
        XCTAssertTrue(line.hasSuffix("img/s"), line)
        XCTAssertThrowsError(try LoaderPosition(seed: 1, epoch: -1).validated())
        XCTAssertThrowsError(try DataLoader.Options(batchSize: 0).validated())
        XCTAssertThrowsError(try DataSource.samples([], perUnit: 10))
    }
}
