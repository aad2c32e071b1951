import ArgumentParser
import Foundation

/// `vlp launch -n N -- COMMAND…`: torchrun's job for swift-vlp. Starts N local copies of a
/// command with the variables `DistributedEnvironment` reads, prefixes their output lines with
/// `[rank i]`, forwards SIGINT/SIGTERM, and when one copy fails stops the others and exits with
/// its code.
struct LaunchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Start N local processes of a command for distributed training (torchrun-compatible environment).",
        discussion: """
            Each process gets MASTER_ADDR, MASTER_PORT, RANK (= node rank × N + local rank), \
            WORLD_SIZE (= nodes × N), LOCAL_RANK, LOCAL_WORLD_SIZE and GROUP_RANK (the node rank), \
            and VLP_NUM_THREADS = cores / N unless it is already set. A command named `vlp` runs \
            this same executable. For several nodes, run the same command on every node with its \
            --node-rank and node 0's --master-addr.

              vlp launch -n 2 -- vlp pretrain --config run.yaml
              vlp launch -n 4 --nodes 2 --node-rank 1 --master-addr 10.0.0.1 -- vlp pretrain …
            """)

    @Option(name: [.customShort("n"), .customLong("nproc-per-node")], help: "Processes to start on this node.")
    var processes: Int

    @Option(help: "Address of node 0, where rank 0 serves the rendezvous (default 127.0.0.1; required with --nodes > 1).")
    var masterAddr: String?

    @Option(help: "Rendezvous port on the master node.")
    var masterPort = 29500

    @Option(help: "This node's index among --nodes.")
    var nodeRank = 0

    @Option(help: "Number of nodes, each running this command.")
    var nodes = 1

    @Option(help: "Seconds the other processes get to exit after SIGTERM, once one has failed, before SIGKILL.")
    var gracePeriod = 10.0

    @Argument(parsing: .postTerminator, help: "The command to run, after `--`.")
    var command: [String] = []

    func validate() throws {
        guard (1...maxChildren).contains(processes) else { throw ValidationError("-n must be in 1...\(maxChildren)") }
        guard nodes >= 1 else { throw ValidationError("--nodes must be at least 1") }
        guard (0..<nodes).contains(nodeRank) else { throw ValidationError("--node-rank must be in 0..<\(nodes)") }
        guard (1...65535).contains(masterPort) else { throw ValidationError("--master-port must be in 1...65535") }
        guard !command.isEmpty else { throw ValidationError("give the command to run after `--`") }
        if nodes > 1 && masterAddr == nil { throw ValidationError("--nodes \(nodes) needs --master-addr (node 0's address)") }
    }

    func run() throws {
        let executable = try resolve(command[0])
        let output = PrefixedOutput()
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var children: [(rank: Int, process: Process)] = []
        let exits = ExitQueue()

        // SIGINT/SIGTERM go to every child still running (see `forwardSignal`).
        signal(SIGINT, forwardSignal)
        signal(SIGTERM, forwardSignal)
        defer {
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }

        for local in 0..<processes {
            let rank = nodeRank * processes + local
            var environment = ProcessInfo.processInfo.environment
            environment["MASTER_ADDR"] = masterAddr ?? "127.0.0.1"
            environment["MASTER_PORT"] = "\(masterPort)"
            environment["RANK"] = "\(rank)"
            environment["WORLD_SIZE"] = "\(nodes * processes)"
            environment["LOCAL_RANK"] = "\(local)"
            environment["LOCAL_WORLD_SIZE"] = "\(processes)"
            environment["GROUP_RANK"] = "\(nodeRank)"
            if environment["VLP_NUM_THREADS"] == nil { environment["VLP_NUM_THREADS"] = "\(max(1, cores / processes))" }
            let process = Process()
            process.executableURL = executable
            process.arguments = Array(command.dropFirst())
            process.environment = environment
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = output.pipe(label: "[rank \(rank)] ", to: .standardOutput)
            process.standardError = output.pipe(label: "[rank \(rank)] ", to: .standardError)
            process.terminationHandler = { exits.push(rank: rank, process: $0) }
            do {
                try process.run()
            } catch {
                for (_, p) in children { p.terminate() }
                throw ValidationError("could not start \(executable.path): \(error.localizedDescription)")
            }
            children.append((rank, process))
            childPIDs[local] = process.processIdentifier
            childCount = Int32(children.count)
            // A signal that came while this child was starting missed it: pass it on, and start
            // no more.
            if receivedSignal != 0 {
                for (_, p) in children { kill(-p.processIdentifier, receivedSignal) }
                break
            }
        }

        // Wait for every child; the first failure stops the rest.
        var failure: (rank: Int, code: Int32, description: String)?
        var deadline: Date?
        var remaining = children.count
        while remaining > 0 {
            guard let (rank, process) = exits.pop(until: deadline) else {
                // The grace period ran out: kill what is left.
                for (_, p) in children { kill(-p.processIdentifier, SIGKILL) }
                deadline = nil
                continue
            }
            remaining -= 1
            if let local = children.firstIndex(where: { $0.rank == rank }) { childPIDs[local] = 0 }
            let (code, description) = Self.exitCode(process)
            guard code != 0, failure == nil else { continue }
            failure = (rank, code, description)
            if remaining > 0 {
                if receivedSignal == 0 {
                    FileHandle.standardError.write("vlp launch: rank \(rank) \(description); stopping the other \(remaining) process(es)\n".data(using: .utf8)!)
                }
                for (_, p) in children { kill(-p.processIdentifier, SIGTERM) }
                deadline = Date().addingTimeInterval(gracePeriod)
            }
        }
        output.finish()
        if let failure {
            FileHandle.standardError.write("vlp launch: failed: rank \(failure.rank) \(failure.description)\n".data(using: .utf8)!)
            throw ExitCode(failure.code)
        }
    }

    /// The child's exit status as a shell reports it (128 + signal when killed).
    static func exitCode(_ process: Process) -> (Int32, String) {
        switch process.terminationReason {
        case .exit: return (process.terminationStatus, "exited with code \(process.terminationStatus)")
        case .uncaughtSignal: return (128 + process.terminationStatus, "was killed by signal \(process.terminationStatus)")
        @unknown default: return (1, "ended (\(process.terminationStatus))")
        }
    }

    /// `vlp` is this executable; a name with a slash is a path; any other name is looked up in PATH.
    func resolve(_ name: String) throws -> URL {
        if name == "vlp", let own = Bundle.main.executableURL { return own }
        if name.contains("/") {
            guard FileManager.default.isExecutableFile(atPath: name) else { throw ValidationError("\(name) is not an executable file") }
            return URL(fileURLWithPath: name)
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
        }
        throw ValidationError("\(name) was not found in PATH")
    }
}

/// Child exits, in the order they happen.
private final class ExitQueue: @unchecked Sendable {
    private var exits: [(Int, Process)] = []
    private let condition = NSCondition()

    func push(rank: Int, process: Process) {
        condition.lock()
        exits.append((rank, process))
        condition.signal()
        condition.unlock()
    }

    /// The next exit, or nil when `deadline` passes first.
    func pop(until deadline: Date?) -> (Int, Process)? {
        condition.lock()
        defer { condition.unlock() }
        while exits.isEmpty {
            if let deadline {
                if !condition.wait(until: deadline) && exits.isEmpty { return nil }
            } else {
                condition.wait()
            }
        }
        return exits.removeFirst()
    }
}

// The signal handler's view of the children: a fixed table of process ids (0: exited or not
// started) that it can read without allocating or locking (kill() is async-signal-safe).
// Foundation starts every child in a process group of its own (so a terminal's Ctrl-C reaches
// only this launcher): signals go to those groups, which also reaches the children's children.
private let maxChildren = 4096
private nonisolated(unsafe) let childPIDs = UnsafeMutablePointer<pid_t>.allocate(capacity: maxChildren)
private nonisolated(unsafe) var childCount: Int32 = 0
private nonisolated(unsafe) var receivedSignal: Int32 = 0

private func forwardSignal(_ sig: Int32) {
    receivedSignal = sig
    for i in 0..<Int(childCount) where childPIDs[i] > 0 { kill(-childPIDs[i], sig) }
}

/// Copies children's output line by line, each line prefixed with its rank, without
/// interleaving lines of different children.
private final class PrefixedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private let open = DispatchGroup()

    /// A pipe whose read end a thread of its own copies, line by line, until end of file.
    func pipe(label: String, to destination: FileHandle) -> Pipe {
        let pipe = Pipe()
        let prefix = Data(label.utf8)
        let descriptor = pipe.fileHandleForReading.fileDescriptor
        open.enter()
        let reader = Thread { [self] in
            var pending = Data()
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                pending.append(contentsOf: chunk[0..<n])
                guard let lastNewline = pending.lastIndex(of: UInt8(ascii: "\n")) else { continue }
                var text = Data()
                for line in pending[..<lastNewline].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                    text.append(prefix)
                    text.append(contentsOf: line)
                    text.append(UInt8(ascii: "\n"))
                }
                pending = Data(pending[(lastNewline + 1)...])
                write(text, to: destination)
            }
            if !pending.isEmpty { write(prefix + pending + Data("\n".utf8), to: destination) }
            open.leave()
        }
        reader.start()
        return pipe
    }

    private func write(_ data: Data, to destination: FileHandle) {
        lock.lock()
        destination.write(data)
        lock.unlock()
    }

    /// Waits until every child's output has been copied; a process the children left behind
    /// that still holds a pipe open gets two seconds.
    func finish() {
        _ = open.wait(timeout: .now() + 2)
    }
}
