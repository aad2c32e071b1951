import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import VLP

/// The names created in, or renamed into, one folder, as inotify reports them: the test wakes
/// within microseconds of a checkpoint folder being staged, published or moved to the trash.
final class FolderEvents {
    private let descriptor: Int32
    private var pending: [String] = []

    init(_ folder: URL) throws {
        descriptor = inotify_init1(Int32(IN_CLOEXEC))
        guard descriptor >= 0, inotify_add_watch(descriptor, folder.path, UInt32(IN_CREATE | IN_MOVED_TO)) >= 0 else {
            throw XCTSkip("inotify is not available for \(folder.path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(descriptor) }

    /// The next name, waiting at most `timeout` seconds; nil when none came.
    func next(timeout: Double) -> String? {
        if pending.isEmpty { read(timeout: timeout) }
        return pending.isEmpty ? nil : pending.removeFirst()
    }

    /// Forgets every event that has come so far.
    func drain() {
        pending.removeAll()
        while read(timeout: 0) {}
        pending.removeAll()
    }

    /// Reads one batch of events into `pending`; false when none came within `timeout`.
    @discardableResult
    private func read(timeout: Double) -> Bool {
        var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&waiting, 1, Int32(timeout * 1000)) > 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let count = Glibc.read(descriptor, &buffer, buffer.count)
        guard count > 0 else { return false }
        // struct inotify_event: wd, mask, cookie, len (4 bytes each), then len bytes of NUL-padded name.
        var offset = 0
        while offset + 16 <= count {
            let length = buffer[offset + 12..<offset + 16].withUnsafeBytes { Int($0.loadUnaligned(as: UInt32.self)) }
            let name = buffer[offset + 16..<min(count, offset + 16 + length)].prefix { $0 != 0 }
            pending.append(String(decoding: name, as: UTF8.self))
            offset += 16 + length
        }
        return true
    }
}

final class CheckpointKillTests: TorchTestCase {
    static let steps = 64

    /// A dual encoder of width 8 (files under 1.5 MB): a save costs little, so each of the 50
    /// runs reaches its first checkpoint soon after it starts.
    static let microModel = """
        {"architecture": "dual_encoder", "embed_dim": 8,
         "text": {"model_type": "bert", "vocab_size": 21128, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
                  "intermediate_size": 16, "hidden_act": "gelu", "max_position_embeddings": 16, "type_vocab_size": 2,
                  "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "pad_token_id": 0},
         "vision": {"image_size": 32, "patch_size": 8, "width": 8, "layers": 1, "heads": 2, "mlp_width": 16, "activation": "gelu"}}
        """

    func yaml(output: URL, model: URL) -> String {
        """
        model: \(model.path)
        recipe: prd2
        data: {source: scenes, size: 64, seed: 3, context_length: 16}
        steps: \(Self.steps)
        batch_size: 8
        optimizer: {lr: 1.0e-3}
        schedule: {name: cosine, warmup_steps: 2}
        seed: 5
        output: \(output.path)
        checkpoint: {every: 1, keep: 1}
        log_every: 1
        workers: 1
        """
    }

    func losses(_ run: URL) throws -> [Int: Double] {
        var result: [Int: Double] = [:]
        for record in try MetricsLog.read(run.appendingPathComponent("metrics.jsonl")) {
            if let step = record["step"] as? Int, let loss = record["loss"] as? Double { result[step] = loss }
        }
        return result
    }

    /// 50 SIGKILLs of a real `vlp pretrain --resume`, each at a random moment of a checkpoint
    /// write (a delay drawn from a fixed-seed generator after the staging folder appears) or of
    /// a prune (as the old folder is moved to the trash). After every kill each visible
    /// `step-*` folder holds every file and the step its name says; the next start reports
    /// the hidden leftovers it sweeps; the final resume follows the uninterrupted loss curve.
    func testFiftyKillsDuringCheckpointWritesAndPrunesLeaveOnlyWholeFolders() throws {
        let executable = try vlpExecutable()
        let root = try temporaryFolder("ckpt-kill")
        defer { try? FileManager.default.removeItem(at: root) }
        let started = Date()
        let reference = root.appendingPathComponent("full"), killed = root.appendingPathComponent("killed")
        let model = root.appendingPathComponent("micro.json")
        try Self.microModel.write(to: model, atomically: true, encoding: .utf8)
        try yaml(output: reference, model: model).write(to: root.appendingPathComponent("full.yaml"), atomically: true, encoding: .utf8)
        try yaml(output: killed, model: model).write(to: root.appendingPathComponent("killed.yaml"), atomically: true, encoding: .utf8)
        let full = try runVLP(["pretrain", "--config", root.appendingPathComponent("full.yaml").path])
        XCTAssertEqual(full.status, 0, full.errors)

        let checkpoints = killed.appendingPathComponent("checkpoints")
        try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        let events = try FolderEvents(checkpoints)
        var generator = SplitMix64(seed: 15)
        var writeSeconds = 0.02          // how long a save takes here, measured as the loop goes
        var (duringWrite, duringPrune, afterBoth) = (0, 0, 0)
        var leftovers: [String] = []
        for round in 0..<50 {
            let log = root.appendingPathComponent("kill-\(round).log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let process = Process()
            process.executableURL = executable
            process.arguments = ["pretrain", "--config", root.appendingPathComponent("killed.yaml").path, "--resume"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: log)
            events.drain()
            try process.run()
            let aimsAtPrune = generator.next() % 2 == 1
            let delay = Double(generator.next() % 1000) / 1000 * (aimsAtPrune ? 0.0002 : writeSeconds * 1.2)
            var stagedAt: Date?
            var killed = false
            let deadline = Date().addingTimeInterval(120)
            while !killed && process.isRunning && Date() < deadline {
                guard let name = events.next(timeout: 0.05) else { continue }
                if name.hasPrefix(".tmp-step-") { stagedAt = Date() }
                if name.hasPrefix("step-"), let stagedAt { writeSeconds = Date().timeIntervalSince(stagedAt) }
                if aimsAtPrune ? name.hasPrefix(".trash-step-") : name.hasPrefix(".tmp-step-") {
                    if delay > 0 { usleep(UInt32(delay * 1_000_000)) }
                    killed = Glibc.kill(process.processIdentifier, SIGKILL) == 0
                }
            }
            if !killed && process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }  // no checkpoint within the deadline
            process.waitUntilExit()
            guard killed && process.terminationReason == .uncaughtSignal else {
                return XCTFail("kill \(round): the run ended (status \(process.terminationStatus)) or wrote no checkpoint within 120 s before it was killed; "
                               + "log: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            }
            // The previous kill's leftovers were swept, and the log says which.
            let logText = try String(contentsOf: log, encoding: .utf8)
            if !leftovers.isEmpty {
                XCTAssertTrue(logText.contains("removed \(leftovers.count) unfinished checkpoint folder(s) an interrupted run left in \(checkpoints.path): "
                                               + leftovers.joined(separator: ", ")), "kill \(round): \(logText)")
            }
            XCTAssertFalse(logText.contains("not a whole checkpoint"), "kill \(round): \(logText)")

            let names = try FileManager.default.contentsOfDirectory(atPath: checkpoints.path).sorted()
            leftovers = names.filter { $0.hasPrefix(".") }
            for name in names where name.hasPrefix("step-") {
                let folder = checkpoints.appendingPathComponent(name)
                let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
                // A whole checkpoint: the files resuming needs, and the bundle's preprocessing and tokenizer.
                XCTAssertEqual(files, (TrainingCheckpoint.files + [ModelBundle.preprocessingFile, ModelBundle.tokenizerFolder]).sorted(),
                               "kill \(round): \(name) is visible but not whole")
                XCTAssertEqual(try TrainingCheckpoint.readState(folder).step, Int(name.dropFirst(5)), "kill \(round): \(name)")
            }
            XCTAssertTrue(TrainingCheckpoint.incomplete(in: checkpoints).isEmpty, "kill \(round): \(names)")
            let staged = leftovers.contains { $0.hasPrefix(".tmp-step-") }, trashed = leftovers.contains { $0.hasPrefix(".trash-step-") }
            if staged { duringWrite += 1 }
            if trashed { duringPrune += 1 }
            if !staged && !trashed { afterBoth += 1 }
        }
        let interrupted = TrainingCheckpoint.list(in: checkpoints).last?.step ?? 0
        XCTAssertLessThan(interrupted, Self.steps, "the kills ran past the end; nothing was interrupted")
        // Kills landed inside writes and inside prunes, not only between them.
        XCTAssertGreaterThan(duringWrite, 0, "no kill landed during a checkpoint write")
        XCTAssertGreaterThan(duringPrune, 0, "no kill landed during a prune")

        let resumed = try runVLP(["pretrain", "--config", root.appendingPathComponent("killed.yaml").path, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        XCTAssertTrue(resumed.errors.contains("resumed from \(checkpoints.path)/step-"), resumed.errors)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: checkpoints.path), [TrainingCheckpoint.folderName(step: Self.steps)])
        let a = try losses(reference), b = try losses(killed)
        XCTAssertEqual(a.keys.sorted(), Array(1...Self.steps))
        XCTAssertEqual(b.keys.sorted(), Array(1...Self.steps))
        for step in 1...Self.steps {
            XCTAssertEqual(a[step] ?? .nan, b[step] ?? .nan, accuracy: 1e-5 * max(1, abs(a[step] ?? 1)), "step \(step)")
        }
        print("checkpoint kill loop: 50 kills (\(duringWrite) during a write, \(duringPrune) during a prune, \(afterBoth) outside both), "
              + "resumed from step \(interrupted) of \(Self.steps), \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}
