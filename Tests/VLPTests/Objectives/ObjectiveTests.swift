import Foundation
import XCTest
import Torch
@testable import VLP

/// Every objective against values computed by hand (plain Swift loops over the same inputs)
/// and against finite differences.
final class ObjectiveTests: TorchTestCase {
    func rows(_ t: Tensor) throws -> [[Double]] {
        let v = try t.to(.float64).toArray(Double.self), n = t.size(1)
        return stride(from: 0, to: v.count, by: n).map { Array(v[$0..<($0 + n)]) }
    }

    func logSoftmax(_ row: [Double]) -> [Double] {
        let m = row.max()!, z = log(row.map { exp($0 - m) }.reduce(0, +)) + m
        return row.map { $0 - z }
    }

    func normalized(_ shape: [Int]) throws -> Tensor {
        try Functional.normalize(try Tensor.randn(shape, dtype: .float64), dim: -1)
    }

    func testGlobalContrastiveLossMatchesHandComputedMultiPositiveInfoNCE() throws {
        manualSeed(1)
        let v = try normalized([4, 6]), t = try normalized([4, 6])
        let ids = try Tensor([0, 1, 1, 2] as [Int64])
        let scale = try Tensor(scalar: 10.0, dtype: .float64)
        let out = try GlobalContrastiveLoss()(imageFeatures: v, textFeatures: t, imageIDs: ids, logitScale: scale)
        let V = try rows(v), T = try rows(t), I: [Int64] = [0, 1, 1, 2]
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map(*).reduce(0, +) }
        var total = 0.0
        for (A, B) in [(V, T), (T, V)] {
            for i in 0..<4 {
                let logits = (0..<4).map { 10 * dot(A[i], B[$0]) }
                let lp = logSoftmax(logits)
                let positives = (0..<4).filter { I[$0] == I[i] }
                total += -positives.map { lp[$0] }.reduce(0, +) / Double(positives.count) / 4
            }
        }
        XCTAssertEqual(try out.loss.item(), total / 2, accuracy: 1e-10)
        XCTAssertEqual(try out.targets.toArray(Double.self)[4..<8].map { $0 }, [0, 0.5, 0.5, 0])
    }

    func testLearnedTemperatureIsClampedAndTrainable() throws {
        let tau = try LearnedTemperature()
        XCTAssertEqual(try tau.scale().item(), 1 / 0.07, accuracy: 1e-4)
        XCTAssertEqual(tau.namedParameters().map(\.name), ["logit_scale"])
        try withNoGrad { try tau.logScale.fill_(20.0) }
        XCTAssertEqual(try tau.scale().item(), 1000, accuracy: 1e-3)
    }

    func testHardNegativesNeverPickPositivesAndFollowSimilarity() throws {
        manualSeed(2)
        let similarity = try Tensor([5, 0, 4, -9, 1, 7, 0, 0, 0] as [Float], shape: [3, 3])
        let positives = try Tensor([true, false, false, false, true, false, false, false, true], shape: [3, 3])
        var counts = [[Int]](repeating: [0, 0, 0], count: 3)
        for _ in 0..<300 {
            let picks = try FineGrainedRanking.sampleHardNegatives(similarity: similarity, positiveMask: positives).toArray(Int64.self)
            for (row, col) in picks.enumerated() { counts[row][Int(col)] += 1 }
        }
        for i in 0..<3 { XCTAssertEqual(counts[i][i], 0, "row \(i) picked its positive") }
        XCTAssertGreaterThan(counts[0][2], counts[0][1] * 10)  // e^4 ≫ e^0
        XCTAssertGreaterThan(counts[1][2], 280)                // e^7 vs e^-9
        let allPositive = try Tensor.ones([2, 2], dtype: .bool)
        XCTAssertThrowsError(try FineGrainedRanking.sampleHardNegatives(similarity: try Tensor.zeros([2, 2]), positiveMask: allPositive))
    }

    /// `positives: image_or_text` keeps a pair whose texts have the same token ids out of the
    /// negatives (Scenes: many images share a title); `weighting: temperature` multiplies by 1/τ.
    func testHardNegativeSamplingOptions() throws {
        let ids = try Tensor([10, 11, 12, 13] as [Int64], shape: [4])
        // Rows 0 and 2 are the same text of different images; row 3 differs from row 1 only at the end.
        let tokens = try Tensor([2, 7, 8, 3, 2, 9, 9, 3, 2, 7, 8, 3, 2, 9, 9, 4] as [Int64], shape: [4, 4])
        let byImage = try HardNegativeSampling(positives: .image)
            .positiveMask(imageIDs: ids, allImageIDs: ids, inputIDs: tokens, allInputIDs: { throw TorchError("test", "texts are not compared") })
        let byText = try HardNegativeSampling(positives: .imageOrText)
            .positiveMask(imageIDs: ids, allImageIDs: ids, inputIDs: tokens, allInputIDs: { tokens })
        XCTAssertEqual(try byImage.toArray(Bool.self), [true, false, false, false, false, true, false, false,
                                                        false, false, true, false, false, false, false, true])
        XCTAssertEqual(try byText.toArray(Bool.self), [true, false, true, false, false, true, false, false,
                                                       true, false, true, false, false, false, false, true])
        // Row 0 is most similar to row 2 (its twin text): never drawn once it counts as a positive.
        manualSeed(4)
        let similarity = try Tensor([1, 0, 0.99, 0.2, 0, 1, 0, 0.9, 0.99, 0, 1, 0.2, 0.2, 0.9, 0.2, 1] as [Float], shape: [4, 4])
        for _ in 0..<100 {
            let picks = try FineGrainedRanking.sampleHardNegatives(similarity: similarity, positiveMask: byText).toArray(Int64.self)
            XCTAssertNotEqual(picks[0], 2)
            XCTAssertNotEqual(picks[2], 0)
        }
        // uniform_fraction 0.5: one column all but certain under the softmax, yet half the draws
        // (plus their share of it) go uniformly over the three negatives.
        manualSeed(6)
        let peaked = try Tensor([0, 50, 0, 0] as [Float], shape: [1, 4])
        let onlySelf = try Tensor([true, false, false, false], shape: [1, 4])
        var peakDraws = 0
        for _ in 0..<3000 {
            let pick = try FineGrainedRanking.sampleHardNegatives(similarity: peaked, positiveMask: onlySelf, uniformFraction: 0.5).toArray(Int64.self)[0]
            XCTAssertNotEqual(pick, 0)
            if pick == 1 { peakDraws += 1 }
        }
        XCTAssertEqual(Double(peakDraws) / 3000, 0.5 + 0.5 / 3, accuracy: 0.04)
        let scale = try Tensor([14.3] as [Float], shape: [])
        XCTAssertEqual(try HardNegativeSampling(weighting: .cosine).sharpness(logitScale: scale), 1)
        XCTAssertEqual(try HardNegativeSampling(weighting: .temperature).sharpness(logitScale: scale), 14.3, accuracy: 1e-5)
    }

    func testFineGrainedRankingIsWeightedCrossEntropyAveragedOverHeads() throws {
        manualSeed(3)
        let h1 = try Tensor.randn([6, 2], dtype: .float64), h2 = try Tensor.randn([6, 2], dtype: .float64)
        let labels: [Int64] = [1, 1, 0, 0, 0, 0]
        let loss = try FineGrainedRanking(positiveWeight: 2)(headLogits: [h1, h2], labels: try Tensor(labels))
        func head(_ t: Tensor) throws -> Double {
            var num = 0.0, den = 0.0
            for (row, y) in zip(try rows(t), labels) {
                let w = y == 1 ? 2.0 : 1.0
                num += -w * logSoftmax(row)[Int(y)]
                den += w
            }
            return num / den
        }
        XCTAssertEqual(try loss.item(), (try head(h1) + head(h2)) / 2, accuracy: 1e-10)
    }

    func testMaskedLanguageModelingIgnoresUnmaskedPositions() throws {
        manualSeed(4)
        let logits = try Tensor.randn([1, 3, 5], dtype: .float64)
        let loss = try MaskedLanguageModeling.loss(logits: logits, labels: try Tensor([-100, 3, -100] as [Int64], shape: [1, 3]))
        let row = try rows(logits.reshaped([3, 5]))[1]
        XCTAssertEqual(try loss.item(), -logSoftmax(row)[3], accuracy: 1e-10)
    }

    func testDistillationQueueDecaysAndDropsOldest() throws {
        let queue = DistillationQueue(capacity: 3, decay: 0.5)
        for step in 0..<3 {
            try queue.enqueue(imageFeatures: try Tensor.full([2, 2], step), textFeatures: try Tensor.full([2, 2], step),
                              imageIDs: try Tensor([Int64(step), Int64(step)]))
        }
        XCTAssertEqual(queue.count, 3)
        XCTAssertEqual(try queue.weights!.toArray(Float.self), [1, 1, 0.5])
        XCTAssertEqual(try queue.imageIDs!.toArray(Int64.self), [2, 2, 1])
        let restored = DistillationQueue(capacity: 3, decay: 0.5)
        try restored.loadStateDict(queue.stateDict())
        XCTAssertEqual(try restored.weights!.toArray(Float.self), [1, 1, 0.5])
    }

    func testTeacherGuidedDistillationMatchesHandComputedWeightedSoftTargetsWithQueuedPositives() throws {
        manualSeed(5)
        let (sv, st, tv, tt) = (try normalized([2, 4]), try normalized([2, 4]), try normalized([2, 4]), try normalized([2, 4]))
        let queue = DistillationQueue(capacity: 4, decay: 0.5)
        try queue.enqueue(imageFeatures: try normalized([1, 4]), textFeatures: try normalized([1, 4]), imageIDs: try Tensor([Int64(9)]))
        try queue.enqueue(imageFeatures: try normalized([1, 4]), textFeatures: try normalized([1, 4]), imageIDs: try Tensor([Int64(8)]))
        let scale = try Tensor(scalar: 5.0, dtype: .float64)
        let alpha = 0.4
        // Row 1 shows image 9, which the queue also holds: that queue column is a positive too.
        let rowIDs: [Int64] = [0, 9]
        let loss = try TeacherGuidedDistillation(alpha: alpha)(studentImages: sv, studentTexts: st, teacherImages: tv, teacherTexts: tt,
                                                              imageIDs: try Tensor(rowIDs), queue: queue, logitScale: scale)
        let weights = [1.0, 1.0] + (try queue.weights!.to(.float64).toArray(Double.self))
        let columnIDs = rowIDs + (try queue.imageIDs!.toArray(Int64.self))
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map(*).reduce(0, +) }
        func direction(_ s: [[Double]], _ t: [[Double]], _ candidates: [[Double]]) -> Double {
            var total = 0.0
            for i in 0..<2 {
                let teacher = candidates.map { 5 * dot(t[i], $0) }, student = candidates.map { 5 * dot(s[i], $0) }
                let tp = logSoftmax(teacher).map { Foundation.exp($0) }
                let positives = columnIDs.filter { $0 == rowIDs[i] }.count
                var q = tp.enumerated().map { alpha * $0.element + (1 - alpha) * (columnIDs[$0.offset] == rowIDs[i] ? 1 / Double(positives) : 0) }
                q = q.enumerated().map { $0.element * weights[$0.offset] }
                let z = q.reduce(0, +)
                total += -zip(q.map { $0 / z }, logSoftmax(student)).map(*).reduce(0, +) / 2
            }
            return total
        }
        let texts = try rows(tt) + rows(queue.textFeatures!), images = try rows(tv) + rows(queue.imageFeatures!)
        let expected = (direction(try rows(sv), try rows(tv), texts) + direction(try rows(st), try rows(tt), images)) / 2
        XCTAssertEqual(try loss.item(), expected, accuracy: 1e-10)
    }

    func testFeatureDistillationIsCrossEntropyOfTemperedDistributions() throws {
        manualSeed(6)
        let s = try Tensor.randn([2, 5], dtype: .float64), t = try Tensor.randn([2, 5], dtype: .float64)
        let loss = try FeatureDistillation(teacherTemperature: 0.5, studentTemperature: 2)(student: s, teacher: t)
        var expected = 0.0
        for (srow, trow) in zip(try rows(s), try rows(t)) {
            let p = logSoftmax(trow.map { $0 / 0.5 }).map { Foundation.exp($0) }, lq = logSoftmax(srow.map { $0 / 2 })
            expected += -zip(p, lq).map(*).reduce(0, +) / 2
        }
        XCTAssertEqual(try loss.item(), expected, accuracy: 1e-10)
    }

    func testContrastiveWithRewritesCountsOnlyCandidates() throws {
        let logits = try Tensor([1, 2, 3, 4, 0, 0, 5, 1] as [Double], shape: [2, 4])
        let positives = try Tensor([true, true, false, false, false, false, true, false], shape: [2, 4])
        let candidates = try Tensor([false, false, true, false, true, true, false, false], shape: [2, 4])
        let loss = try ContrastiveWithRewrites.loss(logits: logits, positiveMask: positives, candidateMask: candidates)
        let e = { (x: Double) in Foundation.exp(x) }
        let row0 = -Foundation.log((e(1) + e(2)) / (e(1) + e(2) + e(3)))
        let row1 = -Foundation.log(e(5) / (e(0) + e(0) + e(5)))
        XCTAssertEqual(try loss.item(), (row0 + row1) / 2, accuracy: 1e-10)
        XCTAssertThrowsError(try ContrastiveWithRewrites.loss(logits: logits, positiveMask: try Tensor.zeros([2, 4], dtype: .bool), candidateMask: candidates))
    }

    /// CMCL on a batch: image → text over the batch's chosen and extra texts plus each row's own
    /// valid hard negatives; text → image InfoNCE from both text sets; their mean.
    func testCMCLOnABatchMatchesHandComputedLoss() throws {
        manualSeed(12)
        let (v, t, p, n) = (try normalized([2, 3]), try normalized([2, 3]), try normalized([2, 3]), try normalized([4, 3]))
        let valid = try Tensor([true, false, true, true], shape: [2, 2])
        let loss = try ContrastiveWithRewrites.loss(imageFeatures: v, textFeatures: t, positiveFeatures: p, negativeFeatures: n,
                                                    negativeIsValid: valid, imageIDs: try Tensor([4, 9] as [Int64]),
                                                    logitScale: try Tensor(scalar: 3.0, dtype: .float64))
        let (V, T, P, N) = (try rows(v), try rows(t), try rows(p), try rows(n))
        let isValid = [[true, false], [true, true]]
        func dot(_ a: [Double], _ b: [Double]) -> Double { 3 * zip(a, b).map(*).reduce(0, +) }
        func logSumExp(_ xs: [Double]) -> Double { let m = xs.max()!; return m + Foundation.log(xs.map { Foundation.exp($0 - m) }.reduce(0, +)) }
        var imageToText = 0.0
        for i in 0..<2 {
            let positives = [dot(V[i], T[i]), dot(V[i], P[i])]
            let others = [dot(V[i], T[1 - i]), dot(V[i], P[1 - i])] + (0..<2).filter { isValid[i][$0] }.map { dot(V[i], N[2 * i + $0]) }
            imageToText += (logSumExp(positives + others) - logSumExp(positives)) / 2
        }
        var textToImage = 0.0
        for (row, image) in [(T[0], 0), (T[1], 1), (P[0], 0), (P[1], 1)] {
            textToImage += -logSoftmax([dot(row, V[0]), dot(row, V[1])])[image] / 4
        }
        XCTAssertEqual(try loss.item(), (imageToText + textToImage) / 2, accuracy: 1e-10)
        let failures = try GradientCheck.check("CMCL batch", { x in
            try ContrastiveWithRewrites.loss(imageFeatures: Functional.normalize(x[0]), textFeatures: Functional.normalize(x[1]),
                                             positiveFeatures: Functional.normalize(x[2]), negativeFeatures: Functional.normalize(x[3]),
                                             negativeIsValid: valid, imageIDs: try Tensor([4, 9] as [Int64]), logitScale: x[4].exp())
        }, [try Tensor.randn([2, 3]), try Tensor.randn([2, 3]), try Tensor.randn([2, 3]), try Tensor.randn([4, 3]), try Tensor(scalar: 1.0)])
        XCTAssertEqual(failures, [])
    }

    func testSingleStreamLosses() throws {
        let predicted = try Tensor([1, 2, 3, 4] as [Double], shape: [1, 2, 2]), original = try Tensor.zeros([1, 2, 2], dtype: .float64)
        let mrfr = try SingleStreamObjectives.maskedRegionFeatureRegression(predicted: predicted, original: original, mask: try Tensor([false, true], shape: [1, 2]))
        XCTAssertEqual(try mrfr.item(), (9 + 16) / 2, accuracy: 1e-12)
        let logits = try Tensor([0, 0, 10, 0] as [Double], shape: [1, 2, 2])
        let moc = try SingleStreamObjectives.maskedObjectClassification(logits: logits, labels: try Tensor([-100, 0] as [Int64], shape: [1, 2]))
        XCTAssertEqual(try moc.item(), -Foundation.log(Foundation.exp(10) / (Foundation.exp(10) + 1)), accuracy: 1e-9)
        let none = try SingleStreamObjectives.maskedObjectClassification(logits: logits, labels: try Tensor([-100, -100] as [Int64], shape: [1, 2]))
        XCTAssertEqual(try none.item(), 0, "no masked region: zero, not NaN")
    }

    func testGradientsMatchFiniteDifferences() throws {
        manualSeed(8)
        let ids = try Tensor([0, 1, 1, 2] as [Int64])
        let labels = try Tensor([1, 0, 0, 1] as [Int64])
        let queue = DistillationQueue(capacity: 2)
        try queue.enqueue(imageFeatures: try normalized([2, 3]), textFeatures: try normalized([2, 3]), imageIDs: try Tensor([7, 8] as [Int64]))
        let (tv, tt) = (try normalized([4, 3]), try normalized([4, 3]))
        let scale = try Tensor(scalar: 4.0, dtype: .float64)
        let positives = try Tensor([true, false, false, true, false, false], shape: [2, 3])
        var failures: [String] = []
        failures += try GradientCheck.check("GCPR", { x in
            try GlobalContrastiveLoss()(imageFeatures: Functional.normalize(x[0]), textFeatures: Functional.normalize(x[1]), imageIDs: ids, logitScale: x[2].exp()).loss
        }, [try Tensor.randn([4, 3]), try Tensor.randn([4, 3]), try Tensor(scalar: 2.0)])
        failures += try GradientCheck.check("FGR", { try FineGrainedRanking()(headLogits: [$0[0], $0[1]], labels: labels) },
                                            [try Tensor.randn([4, 2]), try Tensor.randn([4, 2])])
        failures += try GradientCheck.check("TgD", { x in
            try TeacherGuidedDistillation()(studentImages: Functional.normalize(x[0]), studentTexts: Functional.normalize(x[1]), teacherImages: tv,
                                            teacherTexts: tt, imageIDs: ids, queue: queue, logitScale: scale)
        }, [try Tensor.randn([4, 3]), try Tensor.randn([4, 3])])
        let teacher = try Tensor.randn([3, 5], dtype: .float64), original = try Tensor.randn([1, 2, 3], dtype: .float64)
        failures += try GradientCheck.check("FgD", { try FeatureDistillation()(student: $0[0], teacher: teacher) }, [try Tensor.randn([3, 5])])
        failures += try GradientCheck.check("CMCL", { try ContrastiveWithRewrites.loss(logits: $0[0], positiveMask: positives, candidateMask: positives.logicalNot()) },
                                            [try Tensor.randn([2, 3])])
        failures += try GradientCheck.check("MRFR", { try SingleStreamObjectives.maskedRegionFeatureRegression(predicted: $0[0], original: original, mask: try Tensor([true, false], shape: [1, 2])) },
                                            [try Tensor.randn([1, 2, 3])])
        XCTAssertEqual(failures, [])
    }

    /// GCPR with the distributed gather on 2 ranks: the mean of the ranks' losses equals the
    /// one-process loss on the concatenated batch, and each rank's feature gradients (summed over
    /// ranks by the gather, then averaged as DDP averages) equal the one-process gradients.
    func testDistributedGCPRMatchesOneProcessOnTheConcatenatedBatch() throws {
        manualSeed(12)
        let images = try Tensor.randn([6, 4], dtype: .float64), texts = try Tensor.randn([6, 4], dtype: .float64)
        let ids = try Tensor([0, 1, 2, 2, 3, 4] as [Int64])
        let scale = try Tensor(scalar: 7.0, dtype: .float64)
        let v = try images.clone().requiringGrad(), t = try texts.clone().requiringGrad()
        let whole = try GlobalContrastiveLoss()(imageFeatures: Functional.normalize(v), textFeatures: Functional.normalize(t), imageIDs: ids, logitScale: scale).loss
        try whole.backward()
        let (expectedImageGrad, expectedTextGrad) = (try v.grad!.toArray(Double.self), try t.grad!.toArray(Double.self))
        let inputs = try (0..<2).map { r in (try images[(3 * r)..<(3 * r + 3)].clone(), try texts[(3 * r)..<(3 * r + 3)].clone(), try ids[(3 * r)..<(3 * r + 3)].clone()) }
        let results = try LocalProcessGroups.run(worldSize: 2) { rank, group -> (Double, [Double], [Double]) in
            let (vi, ti, idi) = inputs[rank]
            let vr = try vi.requiringGrad(), tr = try ti.requiringGrad()
            let loss = try GlobalContrastiveLoss(gather: DistributedGather(group: group))(
                imageFeatures: Functional.normalize(vr), textFeatures: Functional.normalize(tr), imageIDs: idi, logitScale: scale).loss
            try loss.backward()
            return (try loss.item(), try (vr.grad! / 2).toArray(Double.self), try (tr.grad! / 2).toArray(Double.self))
        }
        XCTAssertEqual((results[0].0 + results[1].0) / 2, try whole.item(), accuracy: 1e-10)
        for (x, y) in zip(results[0].1 + results[1].1, expectedImageGrad) { XCTAssertEqual(x, y, accuracy: 1e-10) }
        for (x, y) in zip(results[0].2 + results[1].2, expectedTextGrad) { XCTAssertEqual(x, y, accuracy: 1e-10) }
    }

    /// CMCL with the distributed gather on 2 ranks: each rank's images see every rank's chosen
    /// and extra texts (and their own hard negatives), its texts every rank's images; the mean of
    /// the ranks' losses equals the one-process loss on the concatenated batch, and so do the
    /// gradients of every feature (hard negatives included), as in the GCPR test above.
    func testDistributedCMCLMatchesOneProcessOnTheConcatenatedBatch() throws {
        manualSeed(13)
        let (b, k) = (3, 2)
        let features = try [2 * b, 2 * b, 2 * b, 2 * b * k].map { try Tensor.randn([$0, 4], dtype: .float64) }
        let valid = try Tensor([true, false, true, true, false, false, true, true, true, false, false, true], shape: [2 * b, k])
        let ids = try Tensor([0, 1, 2, 2, 3, 4] as [Int64])
        let scale = try Tensor(scalar: 5.0, dtype: .float64)
        @Sendable func cmcl(_ x: [Tensor], _ valid: Tensor, _ ids: Tensor, gather: FeatureGather) throws -> Tensor {
            try ContrastiveWithRewrites.loss(imageFeatures: Functional.normalize(x[0]), textFeatures: Functional.normalize(x[1]),
                                             positiveFeatures: Functional.normalize(x[2]), negativeFeatures: Functional.normalize(x[3]),
                                             negativeIsValid: valid, imageIDs: ids, logitScale: scale, gather: gather)
        }
        let whole = try features.map { try $0.clone().requiringGrad() }
        let wholeLoss = try cmcl(whole, valid, ids, gather: LocalGather())
        try wholeLoss.backward()
        let expected = try whole.map { try $0.grad!.toArray(Double.self) }
        let shares = try (0..<2).map { r in
            (features: try features.map { x in try x[(x.size(0) / 2 * r)..<(x.size(0) / 2 * (r + 1))].clone() },
             valid: try valid[(b * r)..<(b * r + b)].clone(), ids: try ids[(b * r)..<(b * r + b)].clone())
        }
        let results = try LocalProcessGroups.run(worldSize: 2) { rank, group -> (Double, [[Double]]) in
            let share = shares[rank]
            let x = try share.features.map { try $0.requiringGrad() }
            let loss = try cmcl(x, share.valid, share.ids, gather: DistributedGather(group: group))
            try loss.backward()
            return (try loss.item(), try x.map { try ($0.grad! / 2).toArray(Double.self) })
        }
        XCTAssertEqual((results[0].0 + results[1].0) / 2, try wholeLoss.item(), accuracy: 1e-10)
        for (index, reference) in expected.enumerated() {
            let combined = results[0].1[index] + results[1].1[index]
            XCTAssertEqual(combined.count, reference.count)
            for (x, y) in zip(combined, reference) { XCTAssertEqual(x, y, accuracy: 1e-10, "feature set \(index)") }
        }
        let local = try cmcl(shares[0].features, shares[0].valid, shares[0].ids, gather: LocalGather())
        XCTAssertNotEqual(try local.item(), results[0].0, accuracy: 1e-6, "rank 0 alone sees fewer candidates")
    }

    func testRecipesAreConfigurations() throws {
        XCTAssertEqual(try PretrainingRecipe.named("prd2"), .prd2)
        XCTAssertFalse(PretrainingRecipe.prd2.uses(.fgr))
        XCTAssertTrue(PretrainingRecipe.r2d2.enhancedTraining)
        XCTAssertFalse(PretrainingRecipe.r2d2WithoutFeatureDistillation.uses(.fgd))
        XCTAssertThrowsError(try PretrainingRecipe.named("r2d3")) { XCTAssertTrue("\($0)".contains("allowed: r2d2, prd2")) }
        let decoded = try JSONDecoder().decode(PretrainingRecipe.self, from: try JSONEncoder().encode(PretrainingRecipe.r2d2))
        XCTAssertEqual(decoded, .r2d2)
    }
}

final class MaskedPositionsMLMTests: TorchTestCase {
    /// The head applied at masked positions only gives the loss of the full logits.
    func testLossAtMaskedPositionsEqualsTheFullLogitsLoss() throws {
        manualSeed(21)
        let head = try Linear(8, 30)
        let states = try Tensor.randn([3, 5, 8], dtype: .float64)
        try head.to(.cpu, dtype: .float64)
        let labels = try Tensor([Int64(-100), 4, -100, -100, 7, 1, -100, -100, -100, -100, -100, -100, 29, 0, -100], shape: [3, 5])
        let full = try MaskedLanguageModeling.loss(logits: head(states), labels: labels)
        let selected = try MaskedLanguageModeling.loss(states: states, labels: labels) { try head($0) }
        XCTAssertEqual(try full.item(), try selected.item(), accuracy: 1e-12)
        let none = try Tensor.full([3, 5], -100, dtype: .int64)
        XCTAssertEqual(try MaskedLanguageModeling.loss(states: states, labels: none) { try head($0) }.item(), 0)
    }
}

final class GatheredDistillationTests: TorchTestCase {
    /// Gathered columns equal to the local batch give the local loss; other workers' columns
    /// change it (they enter the denominator and, with a shared image id, the targets).
    func testGatheredColumnsExtendTheBatch() throws {
        manualSeed(31)
        func unit(_ shape: [Int]) throws -> Tensor { try Functional.normalize(Tensor.randn(shape, dtype: .float64), dim: -1) }
        let (si, st, ti, tt) = (try unit([3, 4]), try unit([3, 4]), try unit([3, 4]), try unit([3, 4]))
        let ids = try Tensor([Int64(0), 1, 2], shape: [3])
        let queue = DistillationQueue(capacity: 8)
        let scale = try Tensor(scalar: 10.0, dtype: .float64)
        let tgd = TeacherGuidedDistillation()
        let local = try tgd(studentImages: si, studentTexts: st, teacherImages: ti, teacherTexts: tt, imageIDs: ids, queue: queue, logitScale: scale)
        let same = try tgd(studentImages: si, studentTexts: st, teacherImages: ti, teacherTexts: tt, imageIDs: ids,
                           gathered: (ti, tt, ids), queue: queue, logitScale: scale)
        XCTAssertEqual(try local.item(), try same.item(), accuracy: 1e-12)
        let other = (images: try cat([ti, unit([2, 4])]), texts: try cat([tt, unit([2, 4])]), imageIDs: try Tensor([Int64(0), 1, 2, 7, 2], shape: [5]))
        let wider = try tgd(studentImages: si, studentTexts: st, teacherImages: ti, teacherTexts: tt, imageIDs: ids,
                            gathered: other, queue: queue, logitScale: scale)
        XCTAssertGreaterThan(abs(try wider.item() - local.item()), 1e-6)
    }
}
