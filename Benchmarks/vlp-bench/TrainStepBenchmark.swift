import Foundation
import Torch
import VLP

/// `vlp-bench train-step`: one small CLIP dual encoder trained by swift-vlp and by open_clip
/// (`open_clip.model.CLIP` from a custom config, on Debian's torch 1.13: the libtorch the Swift
/// build links), steps/s and peak memory, fp32 and bf16 autocast, measured in the same run.
///
/// A step: forward both towers on fixed random inputs, the CLIP contrastive loss (swift-vlp's
/// `GlobalContrastiveLoss`, open_clip's `ClipLoss`), backward, AdamW (lr 1e-4, weight decay 0.01
/// on every parameter, both sides). bf16: forward and loss under CPU autocast, backward outside.
/// Both sides get the same intra-op threads, BLAS threads and denormal flushing. malloc is each
/// side's as it ships: swift-vlp's thresholds (`HeapSettings`), glibc's defaults for open_clip;
/// `VLP_KEEP_MALLOC_DEFAULTS=1` gives swift-vlp glibc's too.
///
/// `VLP_BENCH_DEVICE=cuda` runs both sides on the GPU (the peer then needs a CUDA PyTorch that
/// open_clip runs on): inputs and model on the device, bf16 under CUDA autocast, each step timed
/// up to a device synchronisation. The resident-set memory says nothing about the GPU there, so
/// it is not printed.
///
/// Each (side, precision) runs in its own process — swift-vlp's in a child `vlp-bench train-step`
/// told what to measure by `childVariable` — so each has its own peak memory: the process's peak
/// resident set (VmHWM) at the end minus its resident set just before the model was built, which
/// counts weights, gradients, AdamW's moments, activations and allocator caching, and not the
/// inputs nor the runtime (libtorch, Python) loaded before. The machine is shared: each side's
/// steps/s is its faster of `VLP_BENCH_TRAIN_STEP_ROUNDS` (2) rounds, run in alternating order.
enum TrainStepBenchmark {
    /// Set in the child process: the precision to measure (fp32, bf16).
    static let childVariable = "VLP_BENCH_TRAIN_STEP_CHILD"

    /// The model, in the peer's terms (open_clip's `embed_dim`, `vision_cfg`, `text_cfg`) and ours.
    /// ViT-tiny's width and heads (192, 3) at 64 px with 8 px patches (64 patches + class token),
    /// 4 blocks; a 4-block text transformer as wide, CLIP's 49,408-token vocabulary, 32 tokens.
    struct Shape {
        var embedDim = 128
        var imageSize = 64, patchSize = 8, visionWidth = 192, visionLayers = 4, visionHeads = 3
        var vocabularySize = 49408, contextLength = 32, textWidth = 192, textLayers = 4, textHeads = 3

        /// open_clip: heads are width / head_width in the image tower; MLP ratio 4 and GELU
        /// (`quick_gelu=False`) are its defaults, as ours.
        var openCLIPConfig: [String: Any] {
            ["embed_dim": embedDim,
             "vision_cfg": ["image_size": imageSize, "patch_size": patchSize, "width": visionWidth, "layers": visionLayers,
                            "head_width": visionWidth / visionHeads],
             "text_cfg": ["context_length": contextLength, "vocab_size": vocabularySize, "width": textWidth,
                          "heads": textHeads, "layers": textLayers]]
        }

        var configuration: VLPModelConfiguration {
            VLPModelConfiguration(
                architecture: .dualEncoder, embedDim: embedDim,
                text: .clip(CLIPTextConfiguration(vocabularySize: vocabularySize, width: textWidth, layers: textLayers,
                                                  heads: textHeads, contextLength: contextLength)),
                vision: VisionTransformerConfiguration(imageSize: imageSize, patchSize: patchSize, width: visionWidth,
                                                       layers: visionLayers, heads: visionHeads))
        }
    }

    /// What one process measured.
    struct Measurement {
        var stepSeconds: [Double]
        var parameters: Int
        var residentBefore: Double, peakResident: Double  // bytes

        var stepsPerSecond: Double { 1 / PythonPeer.median(stepSeconds) }
        var peakMiB: Double { (peakResident - residentBefore) / 1_048_576 }

        init(stepSeconds: [Double], parameters: Int, residentBefore: Double, peakResident: Double) {
            (self.stepSeconds, self.parameters, self.residentBefore, self.peakResident) = (stepSeconds, parameters, residentBefore, peakResident)
        }

        init(json: [String: Any], from side: String) throws {
            guard let steps = json["step_seconds"] as? [Double], !steps.isEmpty, let parameters = json["parameters"] as? Int,
                  let before = json["resident_before_bytes"] as? Double, let peak = json["peak_resident_bytes"] as? Double else {
                throw TorchError("train-step benchmark", "\(side) printed \(json), not step_seconds, parameters and resident sizes")
            }
            self.init(stepSeconds: steps, parameters: parameters, residentBefore: before, peakResident: peak)
        }

        var json: [String: Any] {
            ["step_seconds": stepSeconds, "parameters": parameters, "resident_before_bytes": residentBefore,
             "peak_resident_bytes": peakResident]
        }
    }

    static let batch = 64

    static func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let warmup = Int(environment["VLP_BENCH_TRAIN_STEP_WARMUP"] ?? "") ?? 2
        let steps = Int(environment["VLP_BENCH_TRAIN_STEP_STEPS"] ?? "") ?? 6
        let rounds = Int(environment["VLP_BENCH_TRAIN_STEP_ROUNDS"] ?? "") ?? 2
        let shape = Shape()
        let device = try Device(parsing: environment["VLP_BENCH_DEVICE"] ?? "cpu")
        try device.checkAvailable()
        if let precision = environment[childVariable] {
            let measured = try measure(shape, bf16: precision == "bf16", device: device, warmup: warmup, steps: steps)
            let data = try JSONSerialization.data(withJSONObject: measured.json)
            FileHandle.standardOutput.write(data)
            return
        }

        let threads = TorchThreads.intraOp, blas = environment["VLP_BLAS_THREADS"] ?? "1"
        print("train-step on \(device): CLIP dual encoder, batch \(batch); image ViT \(shape.imageSize) px / patch \(shape.patchSize), width \(shape.visionWidth), "
              + "\(shape.visionLayers) blocks, \(shape.visionHeads) heads; text transformer width \(shape.textWidth), \(shape.textLayers) blocks, "
              + "\(shape.textHeads) heads, \(shape.contextLength) tokens, vocabulary \(shape.vocabularySize); embed dim \(shape.embedDim)")
        print("  step = forward, contrastive loss, backward, AdamW on fixed random inputs; median of \(steps) steps after \(warmup) warm-up "
              + "in each process, the faster of \(rounds) rounds per side (alternating order); "
              + "intra-op threads \(threads), BLAS threads \(blas); each side and precision in its own process; malloc: swift-vlp "
              + (HeapSettings.isApplied ? "with its thresholds (HeapSettings)" : "on glibc's defaults")
              + ", open_clip on glibc's defaults")
        if device == .cpu {
            print("  peak memory = the process's peak resident set (VmHWM) minus its resident set just before the model is built")
        }
        // Rounds in alternating order (this round's first process is the last round's last), so
        // neither side always runs on a warmer or busier machine; each side keeps its fastest round.
        let cases = ["fp32", "bf16"].flatMap { precision in [(precision, true), (precision, false)] }
        var best: [String: Measurement] = [:]
        for round in 0..<rounds {
            for (precision, isOurs) in round % 2 == 0 ? cases : cases.reversed() {
                let measured: Measurement
                if isOurs {
                    measured = try child(precision: precision)
                } else {
                    let json = try PythonPeer.run("Benchmarks/train_step_peer.py",
                                                  [try configJSON(shape), precision, "\(batch)", "\(warmup)", "\(steps)", "\(threads)",
                                                   device == .cpu ? "cpu" : "cuda"],
                                                  environment: ["OPENBLAS_NUM_THREADS": blas],
                                                  requirement: "torch (python3-torch) and open_clip_torch 2.32.0 (see the peer's header)")
                    measured = try Measurement(json: json, from: "the open_clip peer")
                }
                let key = "\(precision) \(isOurs)"
                if let previous = best[key] {
                    // The faster round's time; the larger round's memory (it should not vary).
                    var kept = previous.stepsPerSecond >= measured.stepsPerSecond ? previous : measured
                    kept.peakResident = kept.residentBefore + max(previous.peakResident - previous.residentBefore,
                                                                  measured.peakResident - measured.residentBefore)
                    best[key] = kept
                } else {
                    best[key] = measured
                }
            }
        }
        let rows = ["fp32", "bf16"].map { (precision: $0, ours: best["\($0) true"]!, peer: best["\($0) false"]!) }

        let (ourCount, peerCount) = (rows[0].ours.parameters, rows[0].peer.parameters)
        print("  parameters: swift-vlp \(ourCount), open_clip \(peerCount)\(ourCount == peerCount ? " (equal)" : " — NOT EQUAL")")
        // Memory columns on the CPU only: a resident set says nothing about the GPU's memory.
        let withMemory = device == .cpu
        print("  precision   swift-vlp steps/s   open_clip steps/s   ratio"
              + (withMemory ? "   swift-vlp peak MiB   open_clip peak MiB   ratio" : ""))
        for row in rows {
            let speed = String(format: "  %@        %8.3f            %8.3f        %5.2f×", row.precision, row.ours.stepsPerSecond,
                               row.peer.stepsPerSecond, row.ours.stepsPerSecond / row.peer.stepsPerSecond)
            let memory = String(format: "   %8.0f             %8.0f           %5.2f×", row.ours.peakMiB, row.peer.peakMiB,
                                row.ours.peakMiB / row.peer.peakMiB)
            print(speed + (withMemory ? memory : ""))
        }
        print("  (steps/s ratio = swift-vlp / open_clip, higher is faster"
              + (withMemory ? "; memory ratio = swift-vlp / open_clip, lower is smaller)" : ")"))
    }

    static func configJSON(_ shape: Shape) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: shape.openCLIPConfig, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Runs this executable again as `vlp-bench train-step` with `childVariable` set.
    static func child(precision: String) throws -> Measurement {
        let (status, json) = try PythonPeer.jsonOutput(of: URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL, ["train-step"],
                                                       environment: [childVariable: precision])
        guard let json else {
            throw TorchError("train-step benchmark", "the swift-vlp child (\(precision)) failed (status \(status)); see its message above")
        }
        return try Measurement(json: json, from: "the swift-vlp child")
    }

    /// Trains in this process and measures it.
    static func measure(_ shape: Shape, bf16: Bool, device: Device, warmup: Int, steps: Int) throws -> Measurement {
        manualSeed(1)
        let images = try Tensor.randn([batch, 3, shape.imageSize, shape.imageSize]).to(device: device)
        // Random tokens, the end-of-text token (the vocabulary's last id, where the tower pools) last.
        let ids = try Tensor.randint(1000, shape.vocabularySize - 1, [batch, shape.contextLength])
        try ids.narrowed(dim: 1, start: shape.contextLength - 1, length: 1).fill_(shape.vocabularySize - 1)
        let mask = try Tensor.ones([batch, shape.contextLength], dtype: .int64).to(device: device)
        let imageIDs = try Tensor.arange(batch).to(device: device)
        let tokens = try ids.to(device: device)

        let before = residentBytes()
        let model = try DualEncoder(shape.configuration)
        try model.to(device)
        model.train()
        let loss = GlobalContrastiveLoss()
        let optimizer = AdamW(model.parameters(), learningRate: 1e-4, weightDecay: 0.01)
        func step() throws {
            optimizer.zeroGrad()
            func forward() throws -> Tensor {
                let output = try model(images: images, inputIDs: tokens, attentionMask: mask)
                return try loss(imageFeatures: output.images.features, textFeatures: output.texts.features,
                                imageIDs: imageIDs, logitScale: output.logitScale).loss
            }
            try (bf16 ? withAutocast(on: device, dtype: .bfloat16, forward) : forward()).backward()
            try optimizer.step()
            try device.synchronize()
        }
        for _ in 0..<warmup { try step() }
        var times: [Double] = []
        for _ in 0..<steps {
            let start = DispatchTime.now().uptimeNanoseconds
            try step()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return Measurement(stepSeconds: times, parameters: model.parameters().reduce(0) { $0 + $1.count },
                           residentBefore: before, peakResident: peakResidentBytes())
    }

    /// The resident set now, from /proc/self/statm (pages).
    static func residentBytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = Double(text.split(separator: " ").dropFirst().first ?? "") else { return .nan }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The process's peak resident set so far (VmHWM in /proc/self/status).
    static func peakResidentBytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
        return kb * 1024
    }
}
