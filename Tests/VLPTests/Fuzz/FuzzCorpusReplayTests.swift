import Foundation
import VLPFuzzTargets
import XCTest

/// Every file of Fuzz/Corpora/<target> and Fuzz/Crashers/<target> runs through the fuzz target
/// it was found with, in an ordinary (unsanitized) build: a parser that crashes again on any of
/// them takes the test run down. Refusals (thrown errors) are what most of these files should
/// get; the test only needs each parser to return.
final class FuzzCorpusReplayTests: TorchTestCase {
    static let fuzzFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func files(in folder: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") }.map { folder.appendingPathComponent($0) }
    }

    func testEveryTargetHasASeedCorpus() {
        for target in FuzzTarget.allCases {
            let files = Self.files(in: Self.fuzzFolder.appendingPathComponent("Corpora/\(target.rawValue)"))
            XCTAssertFalse(files.isEmpty, "Fuzz/Corpora/\(target.rawValue) holds no inputs")
        }
    }

    func testCorporaAndCrashersReplayWithoutCrashing() throws {
        var replayed = 0
        for kind in ["Corpora", "Crashers"] {
            for target in FuzzTarget.allCases {
                for file in Self.files(in: Self.fuzzFolder.appendingPathComponent("\(kind)/\(target.rawValue)")) {
                    target.run(try Data(contentsOf: file))
                    replayed += 1
                }
            }
        }
        XCTAssertGreaterThan(replayed, 0, "no fuzz inputs found under \(Self.fuzzFolder.path)")
    }
}
