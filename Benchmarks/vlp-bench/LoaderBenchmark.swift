import Foundation
import VLP

/// `vlp-bench loader`: images per second of the data loader on real JPEGs — decode,
/// RandomResizedCrop(224), horizontal flip, ImageNet normalization, batches of 32, 2 workers —
/// against PyTorch's DataLoader with PIL + torchvision doing the same (`Benchmarks/loader_peer.py`,
/// 2 worker processes) on the same files in the same run. Prints both rates, the ratio and the
/// peak memory of each side (sum over processes, sampled every 20 ms from /proc).
///
/// The JPEGs: the photos in `assets/photos/` (scikit-image's sample data, `make assets`),
/// re-encoded at quality 90 with short sides 256, 384 and 512 (and their own size) into a
/// temporary folder, so that there are enough distinct real photos at usual dataset sizes.
/// The peer's interpreter is `$VLP_PEER_PYTHON` or `/usr/bin/python3` (Debian's python3-torch
/// and python3-torchvision).
enum LoaderBenchmark {
    static let batchSize = 32
    static let workers = 2
    /// `$VLP_LOADER_BENCH_EPOCHS` overrides (more epochs show whether memory keeps growing).
    static let epochs = Int(ProcessInfo.processInfo.environment["VLP_LOADER_BENCH_EPOCHS"] ?? "").map { max(1, $0) } ?? 3
    static let imagesPerEpoch = 512

    static func run() throws {
        let folder = NSTemporaryDirectory() + "vlp-loader-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let jpegs = try makeJPEGs(in: folder)
        let paths = (0..<imagesPerEpoch).map { jpegs[$0 % jpegs.count] }
        let bytes = jpegs.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
        print("loader: \(jpegs.count) JPEGs (\(bytes / jpegs.count / 1024) KiB on average) from assets/photos, \(imagesPerEpoch) images an epoch, batch \(batchSize), \(workers) workers, median of \(epochs) epochs after a warm-up")

        // Ours.
        let baseline = MemorySampler.current()
        let memory = MemorySampler()
        let samples = paths.enumerated().map { Sample(id: "image-\($0.offset)", image: .file($0.element), texts: []) }
        let pipeline = ImagePipeline([try RandomResizedCrop(size: 224), try HorizontalFlip()], normalization: .imagenet)
        let loader = try DataLoader(source: .samples(samples, perUnit: 64),
                                    transform: SampleTransform(image: pipeline, text: nil),
                                    options: .init(batchSize: batchSize, workers: workers, shuffle: true,
                                                   shuffleBufferSize: 256, dropLast: false, progress: false),
                                    startingAt: LoaderPosition(seed: 1))
        memory.start()
        var seconds: [Double] = []
        for epoch in 0...epochs {
            let start = DispatchTime.now().uptimeNanoseconds
            var count = 0
            while let batch = try loader.next() {
                count += batch.count
                guard batch.images.shape == [batch.count, 3, 224, 224] else {
                    throw LoaderBenchmarkError("batch of shape \(batch.images.shape)")
                }
            }
            guard count == imagesPerEpoch else {
                throw LoaderBenchmarkError("epoch \(epoch) gave \(count) images, not \(imagesPerEpoch): \(loader.report)")
            }
            if epoch > 0 { seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        let ourMemory = memory.stop()
        let ours = Double(imagesPerEpoch) / median(seconds)

        // The peer.
        let list = folder + "/files.txt"
        try paths.joined(separator: "\n").write(toFile: list, atomically: true, encoding: .utf8)
        let peer = try PythonPeer.run("Benchmarks/loader_peer.py", [list, "\(batchSize)", "\(workers)", "\(epochs)"],
                                      requirement: "torch and torchvision (python3-torchvision)")
        guard let peerSeconds = peer["seconds"] as? [Double], let peerImages = peer["images"] as? Int,
              let peerRSS = peer["peak_rss_bytes"] as? Int, let peerPSS = peer["peak_pss_bytes"] as? Int else {
            throw LoaderBenchmarkError("the Python peer's output lacks seconds, images or peak memory")
        }
        let reference = Double(peerImages) / median(peerSeconds)
        let mib = { (b: Int) in String(format: "%.0f MiB", Double(b) / 1_048_576) }
        print(String(format: "  swift-vlp DataLoader      %8.1f images/s  (epochs: %@)", ours, seconds.map { String(format: "%.2fs", $0) }.joined(separator: " ")))
        print(String(format: "  PyTorch DataLoader+PIL    %8.1f images/s  (epochs: %@; torch %@)", reference,
                     peerSeconds.map { String(format: "%.2fs", $0) }.joined(separator: " "), (peer["torch"] as? String) ?? "?"))
        print(String(format: "  ratio                     %8.2f×", ours / reference))
        print("  peak memory: swift-vlp RSS \(mib(ourMemory.rss)) (PSS \(mib(ourMemory.pss)), one process, \(mib(baseline.rss)) of it before the loader started); PyTorch RSS \(mib(peerRSS)) summed over main + \(workers) workers (PSS \(mib(peerPSS)))")
    }

    /// Real photos re-encoded as JPEGs at several sizes; their paths.
    static func makeJPEGs(in folder: String) throws -> [String] {
        let photos = "assets/photos"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: photos)) ?? [])
            .filter { [".jpg", ".jpeg", ".png"].contains(where: $0.lowercased().hasSuffix) }.sorted()
        guard !names.isEmpty else {
            throw LoaderBenchmarkError("no photos in \(photos); run `make assets` from the repository root")
        }
        let decoder = ImageDecoder()
        var paths: [String] = []
        for name in names {
            let photo = try decoder.decode(contentsOf: photos + "/" + name)
            let short = min(photo.width, photo.height)
            let sides = Set([256, 384, 512, min(short, 768)].filter { $0 <= short }).sorted()
            for side in sides {
                let image = side == short ? photo : try photo.resized(shortSide: side, filter: .bilinear)
                let path = folder + "/\(URL(fileURLWithPath: name).deletingPathExtension().lastPathComponent)-\(side).jpg"
                try Data(try ImageEncoder.jpeg(image, quality: 90)).write(to: URL(fileURLWithPath: path))
                paths.append(path)
            }
        }
        return paths
    }

    static func median(_ values: [Double]) -> Double { PythonPeer.median(values) }
}

/// Peak RSS and PSS of this process, sampled every 20 ms from /proc/self/smaps_rollup (the
/// same way the peer samples its processes).
final class MemorySampler: @unchecked Sendable {
    private let condition = NSCondition()
    private var running = false
    private var finished = false
    private var peak = (rss: 0, pss: 0)

    func start() {
        running = true
        Thread { [self] in
            while true {
                let now = MemorySampler.current()
                condition.lock()
                peak = (max(peak.rss, now.rss), max(peak.pss, now.pss))
                if !running { finished = true; condition.broadcast(); condition.unlock(); return }
                condition.unlock()
                Thread.sleep(forTimeInterval: 0.02)
            }
        }.start()
    }

    func stop() -> (rss: Int, pss: Int) {
        condition.lock()
        running = false
        while !finished { condition.wait() }
        defer { condition.unlock() }
        return peak
    }

    static func current() -> (rss: Int, pss: Int) {
        guard let text = try? String(contentsOfFile: "/proc/self/smaps_rollup", encoding: .utf8) else { return (0, 0) }
        var rss = 0, pss = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kib = Int(fields[1]) else { continue }
            if fields[0] == "Rss:" { rss = kib * 1024 } else if fields[0] == "Pss:" { pss = kib * 1024 }
        }
        return (rss, pss)
    }
}

struct LoaderBenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
