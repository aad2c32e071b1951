import XCTest
@testable import VLP

final class FlickrCaptionsTests: TorchTestCase {
    func testEdgeCases() throws {
        let folder = dataFixtures + "/flickr"
        let reader = try FlickrCaptions.Reader(path: folder + "/captions.txt", imageFolder: folder + "/images", language: "zh")
        let samples = try reader.readAll()
        XCTAssertEqual(samples.map(\.id), ["1000", "2000"])
        XCTAssertEqual(samples[0].texts.map(\.text), ["一只蓝色的方块。", "A blue square."])
        XCTAssertEqual(samples[1].texts.map(\.text), ["一个灰色的方块。"])
        XCTAssertEqual(samples[0].image, .file(folder + "/images/1000.ppm"))
        XCTAssertEqual(reader.skipped.map(\.line), [3, 5, 6, 7, 8])
        XCTAssertEqual(reader.skipped.map(\.reason), [
            "empty caption for 2000.ppm#0",
            "image not found: \(folder)/images/3000.ppm",
            "duplicate caption number 1000.ppm#1",
            "no tab after IMAGE#N",
            "\"1000.ppm#x\" is not IMAGE#N",
        ])
    }

    func testRoundTrip() throws {
        let folder = try makeDataTestFolder()
        let samples = dataTestSamples(count: 3)
        let writer = try FlickrCaptions.Writer(path: folder + "/tokens.txt", imageFolder: folder + "/img")
        try writer.write(contentsOf: samples)
        try writer.finish()
        let text = try String(contentsOfFile: folder + "/tokens.txt", encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("s0.ppm#0\t红色的圆形在蓝色方形的左边 0\n"), text)
        let read = try FlickrCaptions.Reader(path: folder + "/tokens.txt", imageFolder: folder + "/img").readAll()
        XCTAssertEqual(read.map(\.id), samples.map(\.id))
        XCTAssertEqual(read.map { $0.texts.map(\.text) }, samples.map { $0.positiveTexts.map(\.text) })
        XCTAssertEqual(try dataTestMaterialized(read).map(\.image), samples.map(\.image))
    }
}

final class LabelSetTests: TorchTestCase {
    func testImageFolder() throws {
        let root = dataFixtures + "/folders"
        let reader = try ImageFolderLabels.Reader(root: root)
        XCTAssertEqual(reader.classNames, ["circle", "square"])
        let samples = try reader.readAll()
        XCTAssertEqual(samples.map(\.id), ["circle/c1", "circle/c2", "square/s1"])
        XCTAssertEqual(samples.map(\.label), [0, 0, 1])
        XCTAssertEqual(reader.skipped.map(\.reason), ["not an image file name"])
        XCTAssertEqual(reader.skipped.first?.file, root + "/square/notes.txt")
    }

    func testImageFolderRoundTripAndPrompts() throws {
        let folder = try makeDataTestFolder()
        let names = ["猫", "dog"]
        let writer = try ImageFolderLabels.Writer(root: folder, classNames: names, encode: dataTestPPM)
        for i in 0..<4 {
            try writer.write(Sample(id: "i\(i)", image: .pixels(dataTestImage(seed: i)), texts: [], label: i % 2))
        }
        try writer.finish()
        let reader = try ImageFolderLabels.Reader(root: folder)
        XCTAssertEqual(reader.classNames, ["dog", "猫"])
        let prompted = PromptedLabelReader(reader, classNames: ClassNames(reader.classNames, language: "zh"))
        let samples = try prompted.readAll()
        XCTAssertEqual(samples.count, 4)
        XCTAssertEqual(samples.first { $0.id == "猫/i0" }?.texts, [SampleText("一张猫的照片。", kind: .classPrompt, language: "zh")])
        XCTAssertEqual(try samples.first { $0.id == "dog/i3" }?.imageBytes(), dataTestPPM(dataTestImage(seed: 3)))
    }

    func testIDXRoundTripAndTruncation() throws {
        let folder = try makeDataTestFolder()
        let writer = IDXLabels.Writer(images: folder + "/x-images-idx3-ubyte", labels: folder + "/x-labels-idx1-ubyte")
        let grey = (0..<5).map { i in RGBImage(width: 4, height: 3, pixels: (0..<12).flatMap { p in
            [UInt8](repeating: UInt8(p * 20 + i), count: 3) }) }
        for (i, image) in grey.enumerated() {
            try writer.write(Sample(id: "\(i)", image: .pixels(image), texts: [], label: 9 - i))
        }
        try writer.finish()
        let reader = try IDXLabels.Reader(images: folder + "/x-images-idx3-ubyte", labels: folder + "/x-labels-idx1-ubyte")
        let samples = try reader.readAll()
        XCTAssertEqual(samples.map(\.label), [9, 8, 7, 6, 5])
        XCTAssertEqual(samples.map(\.image), grey.map { .pixels($0) })
        XCTAssertEqual(samples.map(\.id), (0..<5).map { "x-\($0)" })

        // Cut the images file inside record 3: records 0…2 stay, the rest is reported.
        let images = try Data(contentsOf: URL(fileURLWithPath: folder + "/x-images-idx3-ubyte"))
        try images.prefix(16 + 12 * 3 + 5).write(to: URL(fileURLWithPath: folder + "/x-images-idx3-ubyte"))
        let cut = try IDXLabels.Reader(images: folder + "/x-images-idx3-ubyte", labels: folder + "/x-labels-idx1-ubyte")
        XCTAssertEqual(try cut.readAll().count, 3)
        XCTAssertEqual(cut.skipped.map(\.reason), ["truncated: header says 5 records, 3 complete"])

        // Labels for another count are a header error naming the file.
        XCTAssertThrowsError(try IDXLabels.Reader(images: folder + "/x-labels-idx1-ubyte", labels: folder + "/x-labels-idx1-ubyte")) { error in
            guard case .badHeader(let path, _)? = error as? DatasetError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, folder + "/x-labels-idx1-ubyte")
        }

        // Crafted: rows × columns of 2^32 − 1 each overflowed Int (a trap); now a header error
        // naming the pixel limit. A gzip bomb is refused at Gzip's output limit.
        var huge = Data([0, 0, 8, 3, 0, 0, 0, 1])
        huge.append(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        try huge.write(to: URL(fileURLWithPath: folder + "/x-images-idx3-ubyte"))
        try Data([0, 0, 8, 1, 0, 0, 0, 1, 4]).write(to: URL(fileURLWithPath: folder + "/x-labels-idx1-ubyte"))
        XCTAssertThrowsError(try IDXLabels.Reader(images: folder + "/x-images-idx3-ubyte", labels: folder + "/x-labels-idx1-ubyte")) { error in
            guard case .badHeader(let path, let reason)? = error as? DatasetError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, folder + "/x-images-idx3-ubyte")
            XCTAssertTrue(reason.contains("limit of \(ImageDecoder.defaultMaxPixels) pixels"), reason)
        }
    }

    func testFashionMNISTRealFiles() throws {
        let test = IDXLabels.fashionMNISTFiles(split: "t10k")
        let train = IDXLabels.fashionMNISTFiles(split: "train")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: test.images),
                          "dataset-fashion-mnist is not installed (scripts/setup-system.sh installs it)")
        let reader = try IDXLabels.Reader(images: test.images, labels: test.labels)
        XCTAssertEqual(reader.count, 10_000)
        XCTAssertEqual(reader.width, 28)
        XCTAssertEqual(reader.height, 28)
        var perClass = [Int](repeating: 0, count: 10)
        var n = 0
        while let sample = try reader.next() {
            perClass[sample.label!] += 1
            n += 1
        }
        XCTAssertEqual(n, 10_000)
        XCTAssertEqual(perClass, [Int](repeating: 1000, count: 10))
        XCTAssertEqual(reader.skipped, [])

        let trainReader = try IDXLabels.Reader(images: train.images, labels: train.labels)
        XCTAssertEqual(trainReader.count, 60_000)
        let first = try XCTUnwrap(trainReader.next())
        XCTAssertEqual(first.label, 9)                      // the first training image is an ankle boot
        let prompted = PromptedLabelReader(try IDXLabels.Reader(images: test.images, labels: test.labels),
                                           classNames: IDXLabels.fashionMNISTClasses)
        let firstPrompted = try XCTUnwrap(prompted.next())
        XCTAssertEqual(firstPrompted.texts.map(\.text), ["a photo of a ankle boot.", "一张短靴的照片。"])
    }
}
