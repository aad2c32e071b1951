import Foundation
import XCTest

/// `vlp launch`, run as the built executable (next to the test bundle).
final class LaunchCommandTests: TorchTestCase {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var seconds: Double
    }

    /// Runs `vlp ARGS…`; once its standard output satisfies `signalWhen`, sends it SIGTERM.
    func launch(_ arguments: [String], signalWhen: ((String) -> Bool)? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = try vlpExecutable()
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["MASTER_PORT"] = nil
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdout = LockedText(), stderr = LockedText()
        let readers = DispatchGroup()
        for (pipe, text) in [(out, stdout), (err, stderr)] {
            readers.enter()
            Thread {
                while case let data = pipe.fileHandleForReading.availableData, !data.isEmpty { text.append(data) }
                readers.leave()
            }.start()
        }
        let start = Date()
        try process.run()
        if let signalWhen {
            // Signal only once the ranks say they are ready: starting takes over a second on a
            // loaded machine, and a signal before the children's traps would test nothing.
            while !signalWhen(stdout.value), process.isRunning, Date().timeIntervalSince(start) < 60 {
                Thread.sleep(forTimeInterval: 0.02)
            }
            kill(process.processIdentifier, SIGTERM)
        }
        process.waitUntilExit()
        _ = readers.wait(timeout: .now() + 10)
        return Outcome(status: process.terminationStatus, stdout: stdout.value, stderr: stderr.value,
                       seconds: Date().timeIntervalSince(start))
    }

    /// Text that one thread appends to while another reads it.
    final class LockedText: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        func append(_ more: Data) { lock.lock(); data.append(more); lock.unlock() }
        var value: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
    }

    func testEveryRankGetsItsEnvironmentAndPrefixedOutput() throws {
        let outcome = try launch(["launch", "-n", "2", "--", "/bin/sh", "-c", "echo $RANK/$WORLD_SIZE; echo local $LOCAL_RANK of $LOCAL_WORLD_SIZE >&2"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let lines = outcome.stdout.split(separator: "\n").map(String.init).sorted()
        XCTAssertEqual(lines, ["[rank 0] 0/2", "[rank 1] 1/2"])
        XCTAssertTrue(outcome.stderr.contains("[rank 1] local 1 of 2"), outcome.stderr)
    }

    func testSecondNodeRanksFollowTheFirstNodes() throws {
        let outcome = try launch(["launch", "-n", "2", "--nodes", "2", "--node-rank", "1", "--master-addr", "10.1.2.3", "--master-port", "4321",
                                  "--", "sh", "-c", "echo $RANK $WORLD_SIZE $LOCAL_RANK $GROUP_RANK $MASTER_ADDR:$MASTER_PORT"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout.split(separator: "\n").map(String.init).sorted(),
                       ["[rank 2] 2 4 0 1 10.1.2.3:4321", "[rank 3] 3 4 1 1 10.1.2.3:4321"])
    }

    func testAFailingRankStopsTheOthersAndSetsTheExitCode() throws {
        let outcome = try launch(["launch", "-n", "3", "--grace-period", "3", "--",
                                  "/bin/sh", "-c", "if [ $RANK = 1 ]; then sleep 0.2; echo failing; exit 3; fi; sleep 30"])
        XCTAssertEqual(outcome.status, 3, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("[rank 1] failing"), outcome.stdout)
        XCTAssertTrue(outcome.stderr.contains("rank 1 exited with code 3"), outcome.stderr)
        XCTAssertLessThan(outcome.seconds, 10)
    }

    func testSIGTERMIsForwardedToEveryRank() throws {
        var signalled = Date.distantFuture
        let outcome = try launch(["launch", "-n", "2", "--", "/bin/sh", "-c", "trap 'echo stopping; exit 7' TERM; echo ready; while :; do sleep 0.05; done"],
                                 signalWhen: { stdout in
                                     guard stdout.contains("[rank 0] ready") && stdout.contains("[rank 1] ready") else { return false }
                                     signalled = Date()
                                     return true
                                 })
        XCTAssertEqual(outcome.status, 7, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("[rank 0] stopping") && outcome.stdout.contains("[rank 1] stopping"), outcome.stdout)
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 10)
    }

    func testMissingCommandIsAUsageError() throws {
        let outcome = try launch(["launch", "-n", "2"])
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.stderr.contains("after `--`"), outcome.stderr)
    }
}
