import Foundation
import XCTest
@testable import VLP

/// `vlp data convert` through the built binary: idx files (labels without names) into one folder
/// per class named by `--classes`, and the refusals (`data filter`'s `--classes` among them).
final class DataConvertCommandTests: TorchTestCase {
    /// `in/t10k-images-idx3-ubyte` + labels: 4 grey 6×5 images with labels 0, 1, 2, 0.
    func writeIDX(_ folder: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder + "/in", withIntermediateDirectories: true)
        let writer = IDXLabels.Writer(images: folder + "/in/t10k-images-idx3-ubyte", labels: folder + "/in/t10k-labels-idx1-ubyte")
        for (i, label) in [0, 1, 2, 0].enumerated() {
            let image = RGBImage(width: 6, height: 5, pixels: (0..<30).flatMap { p in [UInt8](repeating: UInt8(p * 8 + i), count: 3) })
            try writer.write(Sample(id: "\(i)", image: .pixels(image), texts: [], label: label))
        }
        try writer.finish()
        return folder + "/in"
    }

    func testIDXBecomesAFolderPerNamedClass() throws {
        let folder = try makeDataTestFolder()
        let input = try writeIDX(folder)
        let run = try runVLP(["data", "convert", input, folder + "/out", "--to", "imagefolder", "--classes", "T-shirt/top, Trouser,Ankle boot"])
        XCTAssertEqual(run.status, 0, run.errors)
        XCTAssertTrue(run.output.contains("4 samples written, 0 skipped"), run.output)
        // Read back as torchvision's ImageFolder would: classes are the sorted folder names.
        let reader = try ImageFolderLabels.Reader(root: folder + "/out/t10k")
        XCTAssertEqual(reader.classNames, ["Ankle_boot", "T-shirt_top", "Trouser"])
        let samples = try reader.readAll()
        XCTAssertEqual(samples.map(\.id).sorted(), ["Ankle_boot/t10k-2", "T-shirt_top/t10k-0", "T-shirt_top/t10k-3", "Trouser/t10k-1"])
        let original = try IDXLabels.Reader(images: input + "/t10k-images-idx3-ubyte", labels: input + "/t10k-labels-idx1-ubyte").readAll()
        let png = try XCTUnwrap(samples.first { $0.id == "Trouser/t10k-1" })
        guard case .pixels(let pixels)? = original[1].image else { return XCTFail("idx images come back as pixels") }
        XCTAssertEqual(try ImageDecoder().decode(png.imageBytes(), source: "png").pixels, pixels.pixels)
    }

    func testRefusesWhatCannotBeWritten() throws {
        let folder = try makeDataTestFolder()
        let input = try writeIDX(folder)
        let refusals: [([String], String)] = [
            ([], "needs class names; pass --classes"),
            (["--classes", "a,b"], "label 2 names no class of 2"),
            (["--classes", "a/b,a_b,c"], "classes \"a/b\" and \"a_b\" would share the folder a_b"),
            (["--classes", "a,,c"], "--classes: name 2 of 3 is empty"),
        ]
        for (options, message) in refusals {
            let run = try runVLP(["data", "convert", input, folder + "/out-\(options.count)", "--to", "imagefolder"] + options)
            XCTAssertNotEqual(run.status, 0, "\(options)")
            XCTAssertTrue(run.errors.contains(message), "\(options): \(run.errors)")
        }
        let wrongTarget = try runVLP(["data", "convert", input, folder + "/jsonl", "--to", "jsonl", "--classes", "a,b,c"])
        XCTAssertNotEqual(wrongTarget.status, 0)
        XCTAssertTrue(wrongTarget.errors.contains("--classes names image folders: it needs --to imagefolder"), wrongTarget.errors)
        // `data filter` writes the input's format unless told: idx here, which --classes cannot name.
        let filtered = try runVLP(["data", "filter", input, folder + "/filtered", "--classes", "a,b,c"])
        XCTAssertNotEqual(filtered.status, 0)
        XCTAssertTrue(filtered.errors.contains("--classes names image folders: it needs --to imagefolder (part t10k would be written as idx)"),
                      filtered.errors)
    }
}
