import Foundation
import XCTest

/// `vlp launch`, run as the built executable (next to the test bundle).
final class LaunchCommandTests: XCTestCase {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var seconds: Double
    }

    /// Runs `vlp ARGS…`; `signalAfter` sends SIGTERM to it after that many seconds.
    func launch(_ arguments: [String], signalAfter: Double? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = try vlpExecutable()
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["MASTER_PORT"] = nil
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let start = Date()
        try process.run()
        if let signalAfter {
            Thread.sleep(forTimeInterval: signalAfter)
            kill(process.processIdentifier, SIGTERM)
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self), seconds: Date().timeIntervalSince(start))
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
        let outcome = try launch(["launch", "-n", "2", "--", "/bin/sh", "-c", "trap 'echo stopping; exit 7' TERM; while :; do sleep 0.05; done"],
                                 signalAfter: 1.0)
        XCTAssertEqual(outcome.status, 7, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("[rank 0] stopping") && outcome.stdout.contains("[rank 1] stopping"), outcome.stdout)
        XCTAssertLessThan(outcome.seconds, 10)
    }

    func testMissingCommandIsAUsageError() throws {
        let outcome = try launch(["launch", "-n", "2"])
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.stderr.contains("after `--`"), outcome.stderr)
    }
}
