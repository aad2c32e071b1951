import Foundation
import XCTest
@testable import VLP

/// Relative asset paths resolve from the working directory, then `VLP_ROOT`, then the package of
/// the running build, so `vlp serve` works when started elsewhere.
final class AssetFileTests: TorchTestCase {
    func testRelativeAssetsAreFoundUnderVLPRootAndThePackageOfTheBuild() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("vlp-root-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("assets"), withIntermediateDirectories: true)
        try Data("only here\n".utf8).write(to: root.appendingPathComponent("assets/only-here.txt"))
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("vlp-cwd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let previous = FileManager.default.currentDirectoryPath
        defer {
            unsetenv("VLP_ROOT")
            FileManager.default.changeCurrentDirectoryPath(previous)
            try? FileManager.default.removeItem(at: root)
            try? FileManager.default.removeItem(at: elsewhere)
        }
        FileManager.default.changeCurrentDirectoryPath(elsewhere.path)

        XCTAssertThrowsError(try AssetFile.read("assets/only-here.txt")) { XCTAssertTrue("\($0)".contains("VLP_ROOT"), "\($0)") }
        setenv("VLP_ROOT", root.path, 1)
        XCTAssertEqual(AssetFile.lines(try AssetFile.read("assets/only-here.txt")), ["only here"])
        // The package this test bundle was built in holds the fetched vocabulary.
        let vocabulary = AssetFile.locate("assets/cn-clip/vocab.txt")
        XCTAssertTrue(vocabulary.hasPrefix("/") && FileManager.default.fileExists(atPath: vocabulary), vocabulary)
        XCTAssertEqual(AssetFile.locate("/absolute/stays.txt"), "/absolute/stays.txt")
    }
}
