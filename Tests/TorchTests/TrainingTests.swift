import XCTest
@testable import Torch

/// Learning checks: small models must fit one small batch.
final class TrainingTests: TorchTestCase {
    func testTinyMLPOverfitsOneBatch() throws {
        manualSeed(0)
        let model = Sequential([try Linear(4, 32), Activation(.gelu), try Linear(32, 3)])
        let x = try Tensor.randn([16, 4])
        let y = try Tensor.randint(0, 3, [16])
        let optimizer = AdamW(model.parameters(), learningRate: 0.02, weightDecay: 0)
        var loss = 0.0
        for _ in 0..<200 {
            optimizer.zeroGrad()
            let l = try Functional.crossEntropy(model(x), y)
            try l.backward()
            try optimizer.step()
            loss = try l.item()
        }
        XCTAssertLessThan(loss, 0.02)
        XCTAssertEqual(try model(x).argmax(dim: 1).toArray(Int64.self), try y.toArray(Int64.self))
    }

    func testTinyTransformerOverfitsOneBatch() throws {
        manualSeed(1)
        let model = try TinyEncoder(vocabulary: 11, width: 16, depth: 2, classes: 4)
        let ids = try Tensor.randint(0, 11, [8, 5])
        let labels = try Tensor([0, 1, 2, 3, 0, 1, 2, 3] as [Int64])
        let optimizer = AdamW(ParameterGroup.decayingMatricesOnly(model.namedParameters(), weightDecay: 0.01), learningRate: 0.01)
        var loss = 0.0
        for _ in 0..<150 {
            optimizer.zeroGrad()
            let l = try Functional.crossEntropy(model(ids), labels)
            try l.backward()
            try clipGradientNorm(model.parameters(), maxNorm: 1)
            try optimizer.step()
            loss = try l.item()
        }
        XCTAssertLessThan(loss, 0.05)
    }
}
