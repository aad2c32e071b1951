import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Torch
import XCTest
@testable import VLP

/// `vlp index`, `vlp search` and `vlp serve` run as the built executable, on a random-weight
/// checkpoint and rendered scene images.
final class SearchCommandsTests: TorchTestCase {
    func testIndexSearchAndServeThroughTheCLI() throws {
        let root = try temporaryFolder("search-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run").path
        try filterTestCheckpoint(run)
        let photos = root.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        let corpus = try ScenesCorpus(seed: 4, imageSize: 40)
        for i in 0..<4 {
            guard case .pixels(let image)? = corpus.sample(.pretrain, index: i).image else { return XCTFail("scenes give pixels") }
            try Data(try ImageEncoder.png(image)).write(to: photos.appendingPathComponent("scene-\(i).png"))
        }
        try Data("GIF89a, not really".utf8).write(to: photos.appendingPathComponent("broken.jpg"))
        let index = root.appendingPathComponent("photos.index").path

        let built = try runVLP(["index", "--checkpoint", run, "--images", photos.path, "--out", index, "--batch-size", "3"])
        XCTAssertEqual(built.status, 0, built.errors)
        XCTAssertTrue(built.output.contains("indexed 4 images"), built.output)
        XCTAssertTrue(built.output.contains("skipped 1") && built.output.contains("broken.jpg"), built.output)
        let again = try runVLP(["index", "--checkpoint", run, "--images", photos.path, "--out", index])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.errors.contains("--overwrite"), again.errors)

        // A new photo in the folder: --append embeds only it.
        guard case .pixels(let extra)? = corpus.sample(.pretrain, index: 4).image else { return XCTFail("scenes give pixels") }
        try Data(try ImageEncoder.png(extra)).write(to: photos.appendingPathComponent("scene-4.png"))
        let appended = try runVLP(["index", "--checkpoint", run, "--images", photos.path, "--out", index, "--append"])
        XCTAssertEqual(appended.status, 0, appended.errors)
        XCTAssertTrue(appended.output.contains("indexed 1 images") && appended.output.contains("4 images were already in the index"), appended.output)

        let byText = try runVLP(["search", "--index", index, "一个蓝色的正方形", "-k", "2", "--json"])
        XCTAssertEqual(byText.status, 0, byText.errors)
        let answer = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(byText.output.utf8)) as? [String: Any])
        XCTAssertEqual((answer["results"] as? [Any])?.count, 2, byText.output)
        let byImage = try runVLP(["search", "--index", index, "--image", photos.appendingPathComponent("scene-2.png").path, "-k", "1"])
        XCTAssertEqual(byImage.status, 0, byImage.errors)
        XCTAssertTrue(byImage.output.hasPrefix("  1  1.0000  scene-2.png"), byImage.output)
        let noTexts = try runVLP(["search", "--index", index, "--image", photos.appendingPathComponent("scene-2.png").path, "--target", "texts"])
        XCTAssertNotEqual(noTexts.status, 0)
        XCTAssertTrue(noTexts.errors.contains("--texts"), noTexts.errors)
        let noGPU = try runVLP(["search", "--index", index, "cat", "--device", "cuda:7"])
        XCTAssertNotEqual(noGPU.status, 0)
        XCTAssertTrue(noGPU.errors.contains("cuda"), noGPU.errors)
        let missing = try runVLP(["search", "--index", root.appendingPathComponent("nothing").path, "cat"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.errors.contains("vlp index"), missing.errors)

        // The server says where it listens, answers, and stops cleanly on SIGTERM.
        let server = Process()
        server.executableURL = try vlpExecutable()
        for (flag, value, words) in [("--max-connections", "0", "--max-connections must be at least 1"),
                                     ("--header-timeout", "0", "--header-timeout must be in"),
                                     ("--batch-window-ms", "5000", "--batch-window-ms must be in 0...1000"),
                                     ("--rerank-cache-mib", "2000000", "--rerank-cache-mib must be in 0...1048576")] {
            let refused = try runVLP(["serve", "--index", index, "--port", "0", flag, value])
            XCTAssertNotEqual(refused.status, 0, flag)
            XCTAssertTrue(refused.errors.contains(words), refused.errors)
        }
        server.arguments = ["serve", "--index", index, "--port", "0", "--max-connections", "16", "--max-image-mib", "4", "--max-queue", "64",
                            "--max-batch", "8", "--batch-window-ms", "1", "--idle-timeout", "30", "--header-timeout", "5", "--body-timeout", "30",
                            "--rerank-cache-mib", "8"]
        let out = Pipe(), err = Pipe()
        server.standardOutput = out
        server.standardError = err
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        var printed = Data()
        var address: String?
        let deadline = Date().addingTimeInterval(60)
        while address == nil, Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            printed.append(chunk)
            let text = String(decoding: printed, as: UTF8.self)
            if let range = text.range(of: "http://127.0.0.1:"), let end = text[range.upperBound...].firstIndex(of: "/") {
                address = String(text[range.lowerBound..<end])
            }
        }
        let base = try XCTUnwrap(address, String(decoding: printed, as: UTF8.self))
        XCTAssertTrue(String(decoding: printed, as: UTF8.self).contains("serving 5 images"))
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var body = Data(), status = 0
        URLSession.shared.dataTask(with: URL(string: base + "/api/info")!) { data, response, _ in
            body = data ?? Data()
            status = (response as? HTTPURLResponse)?.statusCode ?? 0
            done.signal()
        }.resume()
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(status, 200)
        XCTAssertTrue(String(decoding: body, as: UTF8.self).contains("\"count\":5"), String(decoding: body, as: UTF8.self))
        let stopped = Date()
        server.terminate()
        server.waitUntilExit()
        XCTAssertEqual(server.terminationStatus, 0, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        XCTAssertLessThan(Date().timeIntervalSince(stopped), 10)
    }
}
