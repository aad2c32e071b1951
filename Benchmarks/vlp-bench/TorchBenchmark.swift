import Foundation
import Torch

/// `vlp-bench torch`: per-op overhead, matmul throughput against the machine's peak, and a
/// transformer block's forward+backward against the same block in PyTorch on the same
/// libtorch, measured in the same run. Medians of `VLP_BENCH_REPEATS` (default 15) runs.
enum TorchBenchmark {
    static func median(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }

    /// The machine's measured matrix-multiply peak: the best of a few 2048³ fp32 matmuls with
    /// the BLAS using every core (then the configured BLAS thread count is restored).
    static func measuredPeakGFLOPS(restoreBLASThreads: Int) throws -> Double {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        TorchThreads.setBLASThreads(cores)
        defer { TorchThreads.setBLASThreads(restoreBLASThreads) }
        let n = 2048
        let x = try Tensor.randn([n, n]), y = try Tensor.randn([n, n])
        _ = try x.matmul(y)
        var best = 0.0
        for _ in 0..<4 {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try x.matmul(y)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, 2 * pow(Double(n), 3) / seconds / 1e9)
        }
        return best
    }

    static func peer(threads: Int, repeats: Int) throws -> [String: Double] {
        let blas = ProcessInfo.processInfo.environment["VLP_BLAS_THREADS"] ?? "1"
        let json = try PythonPeer.run("Benchmarks/torch_peer.py", ["\(threads)", "\(repeats)"],
                                      environment: ["OPENBLAS_NUM_THREADS": blas], requirement: "torch (python3-torch)")
        guard let values = json as? [String: Double] else { throw TorchError("torch benchmark", "the PyTorch peer's output is not numbers") }
        return values
    }

    static func run() throws {
        TorchThreads.configureDefaults()
        let repeats = ProcessInfo.processInfo.environment["VLP_BENCH_REPEATS"].flatMap(Int.init) ?? 15
        let threads = TorchThreads.intraOp
        print("torch: libtorch intra-op threads \(threads), BLAS threads \(ProcessInfo.processInfo.environment["VLP_BLAS_THREADS"] ?? "1")")
        manualSeed(0)

        let a = try Tensor.ones([4]), b = try Tensor.ones([4])
        for _ in 0..<1000 { _ = try a + b }
        let add = try median(5) { for _ in 0..<10_000 { _ = try a + b } } / 10_000 * 1e6
        let ag = try Tensor.ones([4]).requiringGrad()
        let addGrad = try median(5) { for _ in 0..<10_000 { _ = try ag + b } } / 10_000 * 1e6

        var matmul: [Int: Double] = [:]
        for n in [512, 1024] {
            let x = try Tensor.randn([n, n]), y = try Tensor.randn([n, n])
            _ = try x.matmul(y)
            matmul[n] = try median(repeats) { _ = try x.matmul(y) }
        }

        let block = try TransformerEncoderLayer(dimension: 256, heads: 4, feedForward: 1024, dropout: 0, activation: .gelu, normFirst: true)
        let input = try Tensor.randn([32, 64, 256])
        func step() throws {
            block.zeroGrad()
            try block(input).sum().backward()
        }
        for _ in 0..<3 { try step() }
        let blockSeconds = try median(repeats) { try step() }

        let py = try peer(threads: threads, repeats: repeats)
        let blasThreads = ProcessInfo.processInfo.environment["VLP_BLAS_THREADS"].flatMap(Int.init) ?? 1
        let peak = try measuredPeakGFLOPS(restoreBLASThreads: blasThreads)
        func row(_ name: String, _ ours: Double, _ theirs: Double, _ unit: String) {
            print(String(format: "  %-34@ swift-vlp %10.3f %@   PyTorch %10.3f %@   ratio %.2f", name as NSString, ours, unit as NSString, theirs, unit as NSString, ours / theirs))
        }
        print("  (ratio = swift-vlp time / PyTorch time; ≤ 1.0 means not slower)")
        row("add [4]+[4] per op", add, py["add_us"]!, "µs")
        row("add per op, recording grad", addGrad, py["add_grad_us"]!, "µs")
        for n in [512, 1024] {
            let flops = 2 * pow(Double(n), 3)
            row("matmul \(n)³", matmul[n]! * 1e3, py["matmul\(n)_s"]! * 1e3, "ms")
            print(String(format: "      %.1f GFLOP/s = %.0f%% of this machine's measured peak %.0f GFLOP/s (2048³, all cores)",
                         flops / matmul[n]! / 1e9, 100 * flops / matmul[n]! / 1e9 / peak, peak))
        }
        row("encoder block fwd+bwd (32×64×256)", blockSeconds * 1e3, py["block_s"]! * 1e3, "ms")
    }
}
