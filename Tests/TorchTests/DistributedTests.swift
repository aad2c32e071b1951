import Foundation
import XCTest
@testable import Torch

/// Two ranks on loopback (threads of this process, each with its own Gloo process group).
final class DistributedTests: TorchTestCase {
    static func freePort() -> Int { Int.random(in: 20_000..<60_000) }

    func twoRanks<R>(timeout: Duration = .seconds(20), _ body: @escaping @Sendable (Int, ProcessGroup) throws -> R) throws -> [R] {
        try LocalProcessGroups.run(worldSize: 2, timeout: timeout, body)
    }

    func testCollectives() throws {
        let results = try twoRanks { rank, pg -> [[Float]] in
            let t = try Tensor([Float(rank + 1), 10], shape: [2])
            try pg.allReduce(t)
            let avg = try Tensor([Float(rank * 2)], shape: [1])
            try pg.allReduce(avg, .average)
            let gathered = try pg.allGather(try Tensor.full([1, 2], rank))
            let b = try Tensor.full([2], rank == 0 ? 7 : 0)
            try pg.broadcast(b, from: 0)
            try pg.barrier()
            return [try t.toArray(), try avg.toArray(), try gathered.toArray(), try b.toArray()]
        }
        for r in results {
            XCTAssertEqual(r, [[3, 20], [1], [0, 0, 1, 1], [7, 7]])
        }
    }

    /// The gathered loss and its gradients equal the single-process loss on the concatenated batch.
    func testGatherWithGradientMatchesOneProcessOnTheWholeBatch() throws {
        manualSeed(11)
        let a = try Tensor.randn([4, 3], dtype: .float64), b = try Tensor.randn([4, 3], dtype: .float64)
        // A loss coupling all rows, as a contrastive loss does; each rank computes it on its rows
        // against everything gathered, and the global loss is the sum over ranks.
        let loss: @Sendable (Tensor, Tensor) throws -> Tensor = { mine, all in try mine.matmul(all.transposed(0, 1)).logsumexp(dim: 1).sum() }
        let whole = try cat([a, b]).detached().requiringGrad()
        try loss(whole, whole).backward()
        let expected = try whole.grad!.toArray(Double.self)
        let (aa, bb) = (try a.clone(), try b.clone())
        let grads = try twoRanks { rank, pg -> [Double] in
            let mine = try (rank == 0 ? aa : bb).clone().detached().requiringGrad()
            let all = try pg.allGatherWithGradient(mine)
            try loss(mine, all).backward()
            return try mine.grad!.toArray(Double.self)
        }
        let combined = grads[0] + grads[1]
        for (x, y) in zip(combined, expected) { XCTAssertEqual(x, y, accuracy: 1e-10) }
    }

    func testMissingRankFailsWithinTheTimeout() throws {
        let start = Date()
        XCTAssertThrowsError(try ProcessGroup(DistributedEnvironment(masterPort: Self.freePort(), rank: 0, worldSize: 2), timeout: .seconds(2))) { error in
            XCTAssertTrue("\(error)".contains("rank 0 of 2"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 15)
    }

    /// A rank that leaves makes the other's next collective throw, well within the timeout.
    func testRankThatDiesMakesOthersFailWithinTheTimeout() throws {
        let start = Date()
        let outcomes = try twoRanks(timeout: .seconds(5)) { rank, pg -> String in
            if rank == 1 { return "left" }  // its group is released here
            Thread.sleep(forTimeInterval: 0.5)
            do {
                try pg.allReduce(try Tensor.ones([4]))
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(outcomes[0].contains("allReduce on rank 0"), outcomes[0])
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    func testEnvironmentParsing() throws {
        XCTAssertNil(try DistributedEnvironment.fromEnvironment([:]))
        XCTAssertEqual(try DistributedEnvironment.fromEnvironment(["RANK": "1", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "1234"]),
                       DistributedEnvironment(masterAddress: "10.0.0.1", masterPort: 1234, rank: 1, worldSize: 4, localRank: 1))
        XCTAssertEqual(try DistributedEnvironment.fromEnvironment(["SLURM_PROCID": "3", "SLURM_NTASKS": "8", "SLURM_LOCALID": "1"])?.localRank, 1)
        XCTAssertEqual(try DistributedEnvironment.fromEnvironment(["OMPI_COMM_WORLD_RANK": "2", "OMPI_COMM_WORLD_SIZE": "3"])?.rank, 2)
        XCTAssertThrowsError(try DistributedEnvironment.fromEnvironment(["RANK": "5", "WORLD_SIZE": "2"]))
        XCTAssertThrowsError(try DistributedEnvironment.fromEnvironment(["RANK": "x", "WORLD_SIZE": "2"]))
    }
}

/// Backend choice and what a build without NCCL says when asked for it.
final class ProcessGroupBackendTests: TorchTestCase {
    func testBackendFollowsTheTensorsDevice() {
        XCTAssertEqual(ProcessGroup.Backend.forTensors(on: .cpu), .gloo)
        XCTAssertEqual(ProcessGroup.Backend.forTensors(on: .cuda(1)), .nccl)
    }

    func testNCCLWithoutItsBuildOrAGPUIsAClearError() throws {
        if ProcessGroup.isNCCLCompiled && Device.isCUDAAvailable { throw XCTSkip("this build can run NCCL") }
        let environment = DistributedEnvironment(masterPort: DistributedTests.freePort(), rank: 0, worldSize: 1)
        XCTAssertThrowsError(try ProcessGroup(environment, backend: .nccl, timeout: .seconds(5))) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("nccl process group"), message)
            XCTAssertTrue(message.contains(ProcessGroup.isNCCLCompiled ? "needs a CUDA device" : "not compiled in"), message)
        }
    }

    func testDeviceParsing() throws {
        XCTAssertEqual(try Device(parsing: "cpu"), .cpu)
        XCTAssertEqual(try Device(parsing: "cuda"), .cuda(0))
        XCTAssertEqual(try Device(parsing: "CUDA:3"), .cuda(3))
        for bad in ["gpu", "cuda:", "cuda:-1", "cuda:x"] {
            XCTAssertThrowsError(try Device(parsing: bad)) { XCTAssertTrue("\($0)".contains("cpu, cuda or cuda:N"), "\($0)") }
        }
    }
}
