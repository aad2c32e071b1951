// Benchmarks, outside the test suite: `swift run -c release vlp-bench NAME`.
// Each prints ratios against a peer measured in the same run (DESIGN.md §5).
import Foundation
import Torch

// The settings `vlp` runs with (threads, flush-denormals, malloc's thresholds), before any tensor exists.
TorchThreads.configureDefaults()
HeapSettings.configureDefaults()

let benchmarks: [String: () throws -> Void] = [
    // "name": Benchmark.run — one line each.
    "tokenizer": TokenizerBenchmark.run,
    "torch": TorchBenchmark.run,
    "loader": LoaderBenchmark.run,
    "ddp": DataParallelBenchmark.run,
    "et": EnhancedTrainingBenchmark.run,
    "search": SearchBenchmark.run,
    "align": ALIGNTowerBenchmark.run,
    "train-step": TrainStepBenchmark.run,
    "embed": EmbedBenchmark.run,
]

let arguments = Array(CommandLine.arguments.dropFirst())
let selected = arguments.isEmpty ? benchmarks.keys.sorted() : arguments
for name in selected {
    guard let run = benchmarks[name] else {
        FileHandle.standardError.write("unknown benchmark \(name); known: \(benchmarks.keys.sorted())\n".data(using: .utf8)!)
        exit(2)
    }
    try run()
}
