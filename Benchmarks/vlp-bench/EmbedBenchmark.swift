import Foundation
import Torch
import VLP

/// `vlp-bench embed`: images/s and texts/s of imported CLIP models — a Chinese-CLIP ViT-B/16 and
/// an OpenCLIP ViT-B/32 with random weights — embedded by swift-vlp and by their own packages
/// (`cn_clip` 1.6, `open_clip` 2.32 + PIL/torchvision) on this CPU, at several batch sizes, in
/// the same run (Benchmarks/embed_peer.py is the peer).
///
/// The peer builds each model and saves its weights; swift-vlp imports them (`ImportFamily`) into
/// a bundle, so both sides run the same architecture and weights. Per batch size: the forward pass
/// alone (images preprocessed once, texts tokenized once — the peer's fixed-length ids, 52 or 77
/// tokens, given to both sides) and end to end (decode + preprocess + forward from the photo
/// files; tokenize + forward from the strings, each side with its own tokenizer: swift-vlp pads a
/// batch to its longest text, the packages to the full context). Every feature L2-normalised.
/// Median of `VLP_BENCH_EMBED_REPEATS` (3) runs after a warm-up. Each side runs in its own process
/// (swift-vlp's in a child told by `childVariable`), its peak memory the process's peak resident
/// set minus its resident set before the model is loaded. Both sides get the same intra-op threads;
/// swift-vlp's BLAS is single-threaded as `vlp embed` runs it (`TorchThreads`: large products are
/// split across the intra-op pool instead), the peer's OpenBLAS has its own default (the core count).
///
/// `VLP_BENCH_DEVICE=cuda` runs both forwards on the GPU (the peer then needs a CUDA PyTorch with
/// the packages); decoding, preprocessing and tokenizing stay on the CPU, and every timed call
/// ends with a device synchronisation. The memory line is then the CPU's resident set only.
enum EmbedBenchmark {
    static let childVariable = "VLP_BENCH_EMBED_CHILD"

    struct Model {
        /// The peer's name for it.
        var name: String
        var family: ImportFamily
        var label: String
        var texts: [String]
    }

    static let models = [
        Model(name: "cn-clip-vit-b-16", family: .chineseCLIP, label: "Chinese-CLIP ViT-B/16 + RoBERTa-wwm-ext-base (cn_clip)",
              texts: ["一只橘色的猫躺在窗台上晒太阳", "两个孩子在公园里放风筝", "桌上放着一杯热咖啡和一本书", "夜晚的城市街道灯火通明",
                      "一只小狗在草地上奔跑", "雪山下的湖泊倒映着蓝天"]),
        Model(name: "openclip-vit-b-32", family: .openCLIP, label: "OpenCLIP ViT-B/32 (open_clip)",
              texts: ["an orange cat lying on the windowsill in the sun", "two children flying a kite in the park",
                      "a cup of hot coffee and a book on the table", "a city street brightly lit at night",
                      "a small dog running on the grass", "a lake under snowy mountains reflecting the blue sky"]),
    ]

    /// What one side measured: seconds per batch, by kind ("images", "texts"), batch and mode.
    struct Measurement {
        var seconds: [String: [Int: (forward: Double, endToEnd: Double)]]
        var residentBefore: Double, peakResident: Double
        var peakMiB: Double { (peakResident - residentBefore) / 1_048_576 }

        init(json: [String: Any], from side: String) throws {
            func fail() -> Error { TorchError("embed benchmark", "\(side) printed \(json), not images, texts and resident sizes") }
            guard let before = json["resident_before_bytes"] as? Double, let peak = json["peak_resident_bytes"] as? Double else { throw fail() }
            (residentBefore, peakResident) = (before, peak)
            seconds = [:]
            for kind in ["images", "texts"] {
                guard let rows = json[kind] as? [String: [String: Double]] else { throw fail() }
                for (batch, row) in rows {
                    guard let b = Int(batch), let forward = row["forward"], let endToEnd = row["end_to_end"] else { throw fail() }
                    seconds[kind, default: [:]][b] = (forward, endToEnd)
                }
            }
        }
    }

    static func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let batches = (environment["VLP_BENCH_EMBED_BATCHES"] ?? "1,16,64").split(separator: ",").compactMap { Int($0) }
        let repeats = Int(environment["VLP_BENCH_EMBED_REPEATS"] ?? "") ?? 3
        let selected = environment["VLP_BENCH_EMBED_MODELS"].map { Set($0.split(separator: ",").map(String.init)) }
        let device = try Device(parsing: environment["VLP_BENCH_DEVICE"] ?? "cpu")
        try device.checkAvailable()
        let photos = ["hubble_deep_field.jpg", "retina.jpg", "rocket.jpg", "chelsea.png", "coffee.png", "astronaut.png"].map { "assets/photos/" + $0 }
        if let missing = photos.first(where: { !FileManager.default.fileExists(atPath: $0) }) {
            throw TorchError("embed benchmark", "\(missing) is missing: run from the repository root after `make assets`")
        }
        if let child = environment[childVariable] {
            let parts = child.split(separator: "|", maxSplits: 1).map(String.init)
            let model = models.first { $0.name == parts[0] }!
            let data = try JSONSerialization.data(withJSONObject: try measure(bundle: parts[1], texts: model.texts, photos: photos,
                                                                                batches: batches, repeats: repeats, device: device))
            FileHandle.standardOutput.write(data)
            return
        }
        let threads = TorchThreads.intraOp
        print("embed on \(device): images/s and texts/s, swift-vlp against the model's own package on the same weights; batches \(batches), "
              + "median of \(repeats) after a warm-up; intra-op threads \(threads); photos: \(photos.count) files cycled "
              + "(3 JPEGs 1000–2000 px, 3 PNGs); forward = inputs prepared once, end to end = from files / strings")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vlp-bench-embed-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }  // scratch of this run only
        for model in models where selected?.contains(model.name) ?? true {
            let checkpoint = scratch.appendingPathComponent("\(model.name).pt").path
            _ = try PythonPeer.run("Benchmarks/embed_peer.py", ["save", model.name, checkpoint], requirement: requirement)
            let bundle = scratch.appendingPathComponent(model.name)
            let imported = try withNoGrad { try ImportFamily.importModel(from: URL(fileURLWithPath: checkpoint), family: model.family, options: ImportOptions()) }
            try imported.write(to: bundle, overwrite: false)

            let (status, json) = try PythonPeer.jsonOutput(of: URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL, ["embed"],
                                                           environment: [childVariable: "\(model.name)|\(bundle.path)"])
            guard let json else { throw TorchError("embed benchmark", "the swift-vlp child failed (status \(status)); see its message above") }
            let ours = try Measurement(json: json, from: "the swift-vlp child")
            let spec: [String: Any] = ["batches": batches, "repeats": repeats, "threads": threads, "photos": photos, "texts": model.texts,
                                       "device": device == .cpu ? "cpu" : "cuda"]
            let specJSON = String(decoding: try JSONSerialization.data(withJSONObject: spec), as: UTF8.self)
            let peer = try Measurement(json: try PythonPeer.run("Benchmarks/embed_peer.py", ["measure", model.name, checkpoint, specJSON],
                                                                requirement: requirement), from: "the peer")
            print("\n\(model.label)")
            print("  kind     batch   swift-vlp fwd/s   peer fwd/s   ratio   swift-vlp e2e/s   peer e2e/s   ratio")
            for kind in ["images", "texts"] {
                for batch in batches {
                    guard let o = ours.seconds[kind]?[batch], let p = peer.seconds[kind]?[batch] else { continue }
                    let b = Double(batch)
                    print(String(format: "  %@   %5d   %15.2f   %10.2f   %4.2f×   %15.2f   %10.2f   %4.2f×", kind, batch,
                                 b / o.forward, b / p.forward, p.forward / o.forward, b / o.endToEnd, b / p.endToEnd, p.endToEnd / o.endToEnd))
                }
            }
            print(String(format: "  peak memory%@: swift-vlp %.0f MiB, peer %.0f MiB (ratio %.2f×, lower is smaller)",
                         device == .cpu ? "" : " (CPU resident set only)", ours.peakMiB, peer.peakMiB,
                         ours.peakMiB / peer.peakMiB))
        }
        print("  (ratio = swift-vlp / peer throughput, higher is faster)")
    }

    static let requirement = "torch (python3-torch), Pillow, cn-clip 1.6.0 and open_clip_torch 2.32.0 (see the peer's header)"

    /// Embeds in this process: the JSON the peer prints, for the bundle at `bundle`.
    static func measure(bundle path: String, texts: [String], photos: [String], batches: [Int], repeats: Int,
                        device: Device) throws -> [String: Any] {
        let before = TrainStepBenchmark.residentBytes()
        let bundle = try ModelBundle.open(path, device: device)
        func timed(_ body: () throws -> Tensor) throws -> Double {
            try medianSeconds(repeats) {
                _ = try body()
                try device.synchronize()
            }
        }
        var images: [String: Any] = [:], textRows: [String: Any] = [:]
        try withNoGrad {
            for batch in batches {
                let embedder = try TowerEmbedder(bundle, batchSize: batch)
                let files = (0..<batch).map { photos[$0 % photos.count] }
                let strings = (0..<batch).map { texts[$0 % texts.count] }
                let pixels = try preprocessed(files, embedder).to(device: device)
                // The peer's fixed-length ids: every text padded to the full context.
                let encoded = try strings.map { try embedder.inputs.tokenizer.encode($0, maxLength: embedder.maxLength, paddedTo: embedder.maxLength) }
                let ids = try TextBatch(encoded, paddingID: embedder.inputs.tokenizer.paddingID, device: device)
                images["\(batch)"] = ["forward": try timed { try embedder.imageFeatures(pixels: pixels) },
                                      "end_to_end": try timed { try embedder.imageFeatures(files: files) }]
                textRows["\(batch)"] = ["forward": try timed { try embedder.towers.encodeTexts(ids.inputIDs, attentionMask: ids.attentionMask).features },
                                        "end_to_end": try timed { try embedder.textFeatures(strings) }]
            }
        }
        return ["images": images, "texts": textRows, "resident_before_bytes": before,
                "peak_resident_bytes": TrainStepBenchmark.peakResidentBytes()]
    }

    /// The files through the bundle's image pipeline, stacked [N, 3, size, size].
    static func preprocessed(_ files: [String], _ embedder: TowerEmbedder) throws -> Tensor {
        var generator = SystemRandomNumberGenerator()  // evaluation preprocessing draws nothing
        let values = try files.flatMap { try embedder.pipeline(contentsOf: $0, using: &generator).values }
        return try Tensor(values, shape: [files.count, 3, embedder.imageSize, embedder.imageSize])
    }

    static func medianSeconds(_ repeats: Int, _ body: () throws -> Void) throws -> Double {
        try body()  // warm-up
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return PythonPeer.median(times)
    }
}
