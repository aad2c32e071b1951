import Foundation
import Torch

/// `vlp-bench ddp`: a training step (forward, backward, gradient averaging, AdamW) of a small
/// transformer at the same global batch, run as 2 processes × 1 intra-op thread with
/// `DataParallel` over Gloo on loopback, and as 1 process × 2 threads. Each configuration runs
/// in child processes of this executable (re-executed with the rank variables), so that thread
/// settings and process start-up are as in a real launch. Reports steps/s, their ratio, and the
/// communication per step: the full bucketed all-reduce (measured with overlap off, where
/// `synchronizeGradients()` does all of it) and the part left waiting after backward with overlap
/// on. 1 process × 1 thread is printed too, as the baseline both are measured against. `VLP_BENCH_STEPS` (default 20) timed steps after 3 warm-up steps; `VLP_BENCH_BUCKET_MB`
/// (default 25, as DDP's) sets the bucket size.
enum DataParallelBenchmark {
    static let roleVariable = "VLP_BENCH_DDP_ROLE"
    static let globalBatch = 16, sequence = 64, width = 256, layers = 2

    static func run() throws {
        if ProcessInfo.processInfo.environment[roleVariable] != nil { return try worker() }
        let steps = ProcessInfo.processInfo.environment["VLP_BENCH_STEPS"] ?? "20"
        print("ddp: \(layers) pre-LN encoder layers (width \(width), 4 heads, FF \(4 * width)) + linear head, sequence \(sequence), global batch \(globalBatch), AdamW, \(steps) timed steps, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        let single = try spawn(worldSize: 1, threads: 2)
        let oneThread = try spawn(worldSize: 1, threads: 1)
        let ddp = try spawn(worldSize: 2, threads: 1)
        let s = single["steps_per_s"]!, d = ddp["steps_per_s"]!
        print(String(format: "  1 process × 2 threads, batch %d:            %6.2f steps/s", globalBatch, s))
        print(String(format: "  (1 process × 1 thread, batch %d:            %6.2f steps/s, for reference)", globalBatch, oneThread["steps_per_s"]!))
        print(String(format: "  2 processes × 1 thread, batch %d per rank:  %6.2f steps/s   (ratio 2p/1p = %.2f)", globalBatch / 2, d, d / s))
        print(String(format: "  gradients: %.1f MB in %d bucket(s) (VLP_BENCH_BUCKET_MB=%@)", ddp["gradient_mb"]!, Int(ddp["buckets"]!),
                     (ProcessInfo.processInfo.environment["VLP_BENCH_BUCKET_MB"] ?? "25") as NSString))
        print(String(format: "  all-reduce per step, after backward (overlap off): %.2f ms  (%.1f%% of a %.1f ms step; %.2f steps/s)",
                     ddp["allreduce_ms"]!, 100 * ddp["allreduce_ms"]! / ddp["step_no_overlap_ms"]!, ddp["step_no_overlap_ms"]!, 1000 / ddp["step_no_overlap_ms"]!))
        print(String(format: "  overlap on: waiting after backward %.2f ms per step; %.0f of %.0f bucket(s) started during backward",
                     ddp["wait_ms"]!, ddp["started_in_backward"]!, ddp["buckets"]!))
    }

    /// Runs `worldSize` copies of this executable as ranks; returns rank 0's numbers.
    static func spawn(worldSize: Int, threads: Int) throws -> [String: Double] {
        let port = Int.random(in: 20_000..<60_000)
        var processes: [(Process, Pipe)] = []
        for rank in 0..<worldSize {
            var environment = ProcessInfo.processInfo.environment
            environment[roleVariable] = "worker"
            environment["RANK"] = "\(rank)"
            environment["WORLD_SIZE"] = "\(worldSize)"
            environment["MASTER_ADDR"] = "127.0.0.1"
            environment["MASTER_PORT"] = "\(port)"
            environment["VLP_NUM_THREADS"] = "\(threads)"
            let process = Process()
            process.executableURL = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
            process.arguments = ["ddp"]
            process.environment = environment
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            processes.append((process, pipe))
        }
        var outputs: [Data] = []
        for (process, pipe) in processes {
            outputs.append(pipe.fileHandleForReading.readDataToEndOfFile())
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw TorchError("ddp benchmark", "a rank exited with \(process.terminationStatus)") }
        }
        let last = String(decoding: outputs[0], as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard let values = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Double] else {
            throw TorchError("ddp benchmark", "rank 0 printed no result: \(last)")
        }
        return values
    }

    final class Model: Module {
        let blocks: [TransformerEncoderLayer]
        let head: Linear

        init(layers: Int) throws {
            blocks = try (0..<layers).map { _ in
                try TransformerEncoderLayer(dimension: width, heads: 4, feedForward: 4 * width, dropout: 0, activation: .gelu, normFirst: true)
            }
            head = try Linear(width, width)
            super.init()
        }

        func callAsFunction(_ x: Tensor) throws -> Tensor {
            try head(try blocks.reduce(x) { try $1($0) })
        }
    }

    static func worker() throws {
        TorchThreads.configureDefaults()
        guard let environment = try DistributedEnvironment.fromEnvironment() else { throw TorchError("ddp benchmark", "no RANK/WORLD_SIZE") }
        let steps = ProcessInfo.processInfo.environment["VLP_BENCH_STEPS"].flatMap(Int.init) ?? 20
        manualSeed(UInt64(environment.rank))
        let model = try Model(layers: layers)
        let group = environment.worldSize > 1 ? try ProcessGroup(environment, timeout: .seconds(120)) : nil
        let bucketMB = ProcessInfo.processInfo.environment["VLP_BENCH_BUCKET_MB"].flatMap(Double.init) ?? 25
        let ddp = try group.map { try DataParallel(module: model, group: $0, bucketCapMB: bucketMB) }
        let optimizer = AdamW(model.parameters(), learningRate: 1e-4)
        let batch = globalBatch / environment.worldSize
        let x = try Tensor.randn([batch, sequence, width]), y = try Tensor.randn([batch, sequence, width])
        var synchronizeSeconds = 0.0, waitSeconds = 0.0, started = 0
        func step() throws {
            model.zeroGrad()
            try (try model(x) - y).square().mean().backward()
            if let ddp {
                let start = DispatchTime.now().uptimeNanoseconds
                try ddp.synchronizeGradients()
                synchronizeSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                waitSeconds += ddp.lastCommunicationWaitSeconds
                started += ddp.bucketsStartedDuringLastBackward
            }
            try optimizer.step()
        }
        func timed(_ n: Int) throws -> Double {
            try group?.barrier()
            synchronizeSeconds = 0; waitSeconds = 0; started = 0
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<n { try step() }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        for _ in 0..<3 { try step() }
        let overlapped = try timed(steps)
        var result: [String: Double] = ["steps_per_s": Double(steps) / overlapped]
        if let ddp {
            result["wait_ms"] = waitSeconds / Double(steps) * 1e3
            result["started_in_backward"] = Double(started) / Double(steps)
            result["buckets"] = Double(ddp.bucketCount)
            result["gradient_mb"] = Double(ddp.parameters.reduce(0) { $0 + $1.tensor.count } * 4) / 1e6
            ddp.overlapsBackward = false
            for _ in 0..<2 { try step() }
            let plain = try timed(steps)
            result["step_no_overlap_ms"] = plain / Double(steps) * 1e3
            result["allreduce_ms"] = synchronizeSeconds / Double(steps) * 1e3
        }
        if environment.rank == 0 {
            let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
