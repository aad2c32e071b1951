import XCTest
@testable import VLP

final class WebDatasetTests: TorchTestCase {
    func testRoundTripAcrossShardsThroughABracePattern() throws {
        let folder = try makeDataTestFolder()
        let samples = dataTestSamples(count: 7) + [
            Sample(id: "with.dots/and slash", image: .encoded(dataTestPPM(dataTestImage(seed: 40))), texts: [SampleText("x")]),
        ]
        let writer = try WebDataset.Writer(folder: folder, samplesPerShard: 3)
        try writer.write(contentsOf: samples)
        let shards = try writer.finish()
        XCTAssertEqual(shards.count, 3)
        XCTAssertEqual(writer.pattern, folder + "/shard-{000000..000002}.tar")
        XCTAssertEqual(try WebDataset.shards(matching: writer.pattern), shards)

        let reader = try WebDataset.Reader(pattern: writer.pattern)
        XCTAssertEqual(try reader.readAll(), samples)
        XCTAssertEqual(reader.skipped, [])
    }

    func testGNUTarListsWhatTheWriterWrote() throws {
        let folder = try makeDataTestFolder()
        let longID = String(repeating: "very-long-sample-name-", count: 8)   // > 100 bytes, no slash: a GNU L entry
        let samples = [
            Sample(id: "a", image: .encoded(dataTestPPM(dataTestImage(seed: 1))), texts: [SampleText("一")], label: 3),
            Sample(id: longID, image: .encoded(dataTestPPM(dataTestImage(seed: 2))), texts: [SampleText("two")]),
        ]
        let writer = try WebDataset.Writer(folder: folder, samplesPerShard: 10)
        try writer.write(contentsOf: samples)
        let shard = try writer.finish()[0]
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: shard)).count % 10240, 0)

        let listing = try run("/usr/bin/tar", ["tf", shard])
        XCTAssertEqual(listing.split(separator: "\n").map(String.init),
                       ["a.ppm", "a.cls", "a.json", "a.txt",
                        longID + ".ppm", longID + ".json", longID + ".txt"])
        // …and extracts the same bytes.
        let out = folder + "/x"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        _ = try run("/usr/bin/tar", ["xf", shard, "-C", out])
        XCTAssertEqual(FileManager.default.contents(atPath: out + "/\(longID).ppm"), dataTestPPM(dataTestImage(seed: 2)))
        XCTAssertEqual(try String(contentsOfFile: out + "/a.cls", encoding: .utf8), "3")
        XCTAssertEqual(try WebDataset.Reader(shards: [shard]).readAll(), samples)
    }

    func testReadsATarMadeByGNUTarWithLongNamesAndFolders() throws {
        let folder = try makeDataTestFolder()
        let deep = "d/" + String(repeating: "x", count: 120)
        let source = folder + "/src"
        try FileManager.default.createDirectory(atPath: source + "/d", withIntermediateDirectories: true)
        try dataTestPPM(dataTestImage(seed: 5)).write(to: URL(fileURLWithPath: source + "/\(deep).png"))
        try Data("caption with a long key".utf8).write(to: URL(fileURLWithPath: source + "/\(deep).txt"))
        try dataTestPPM(dataTestImage(seed: 6)).write(to: URL(fileURLWithPath: source + "/d/k2.jpg"))
        try Data(#"{"caption": "from json", "label": 4}"#.utf8).write(to: URL(fileURLWithPath: source + "/d/k2.json"))
        let shard = folder + "/gnu.tar"
        for format in ["gnu", "posix"] {
            _ = try run("/usr/bin/tar", ["--format=\(format)", "--no-recursion", "-cf", shard, "-C", source,
                                         "d", "\(deep).png", "\(deep).txt", "d/k2.jpg", "d/k2.json"])
            let reader = try WebDataset.Reader(shards: [shard])
            let samples = try reader.readAll()
            // The folder entry `d/` is passed over.
            XCTAssertEqual(samples.map(\.id), [deep, "d/k2"], format)
            XCTAssertEqual(samples.first?.texts.map(\.text), ["caption with a long key"], format)
            XCTAssertEqual(samples.last?.texts.map(\.text), ["from json"], format)
            XCTAssertEqual(samples.last?.label, 4, format)
            XCTAssertEqual(reader.skipped, [], format)
        }
    }

    func testTruncatedShardKeepsCompleteSamplesAndReportsTheDamage() throws {
        let folder = try makeDataTestFolder()
        let samples = dataTestSamples(count: 5)
        let writer = try WebDataset.Writer(folder: folder, samplesPerShard: 100)
        try writer.write(contentsOf: samples)
        let shard = try writer.finish()[0]
        let whole = try Data(contentsOf: URL(fileURLWithPath: shard))

        // Find where sample s3's image member starts, and cut inside it and inside its header.
        let reader = try TarReader(path: shard)
        var offsets: [String: Int] = [:]
        while let member = try reader.next() { offsets[member.name] = member.offset }
        let s3 = try XCTUnwrap(offsets["s3.ppm"])
        for cut in [s3 + 512 + 5, s3 + 100, s3 - 3] {
            let damaged = folder + "/cut-\(cut).tar"
            try whole.prefix(cut).write(to: URL(fileURLWithPath: damaged))
            let reader = try WebDataset.Reader(shards: [damaged])
            let got = try reader.readAll()
            // Cut inside s3's data, the reader knows s2 was complete; cut inside a header or
            // the padding before it, it cannot tell whether s2 had more members, and drops it.
            let expected = cut > s3 + 512 ? ["s0", "s1", "s2"] : ["s0", "s1"]
            XCTAssertEqual(got.map(\.id), expected, "cut at \(cut)")
            XCTAssertEqual(got, Array(samples.prefix(expected.count)))
            XCTAssertFalse(reader.skipped.isEmpty)
            XCTAssertTrue(reader.skipped.last!.reason.hasPrefix("truncated tar"), reader.skipped.last!.reason)
            XCTAssertEqual(reader.skipped.last!.file, damaged)
        }
    }

    func testDamagedShardThenGoodShardGoesOn() throws {
        let folder = try makeDataTestFolder()
        let writer = try WebDataset.Writer(folder: folder, samplesPerShard: 2)
        try writer.write(contentsOf: dataTestSamples(count: 4))
        let shards = try writer.finish()
        let first = try Data(contentsOf: URL(fileURLWithPath: shards[0]))
        var corrupt = first
        corrupt[512 * 4 + 10] ^= 0xFF          // inside s0.txt's header name → checksum mismatch
        try corrupt.write(to: URL(fileURLWithPath: shards[0]))
        let reader = try WebDataset.Reader(shards: shards)
        let ids = try reader.readAll().map(\.id)
        XCTAssertEqual(ids, ["s2", "s3"])     // s0 may lack members, s1 is past the damage
        XCTAssertTrue(reader.skipped.contains { $0.reason.contains("checksum") })
    }

    /// A header whose size is just under Int.max once overflowed the padding sum and crashed
    /// every reader: it is damage of that shard, reported and counted, and the next shard is read.
    func testSizeFieldNearIntMaxIsDamageOfThatShard() throws {
        let folder = try makeDataTestFolder()
        let writer = try WebDataset.Writer(folder: folder, samplesPerShard: 2)
        try writer.write(contentsOf: dataTestSamples(count: 4))
        let shards = try writer.finish()
        let offsets = try { () throws -> [String: Int] in
            let reader = try TarReader(path: shards[0])
            var offsets: [String: Int] = [:]
            while let member = try reader.next() { offsets[member.name] = member.offset }
            return offsets
        }()
        let (name, offset) = try XCTUnwrap(offsets.filter { $0.key.hasPrefix("s1.") }.min { $0.value < $1.value })
        let size = Int.max - 300
        let header = TarHeader.make(name: Array(name.utf8), prefix: [], size: size, type: UInt8(ascii: "0"), mtime: 0)
        XCTAssertEqual(header[124], 0x80, "a size this large takes the GNU base-256 form")
        var shard = try Data(contentsOf: URL(fileURLWithPath: shards[0]))
        shard.replaceSubrange(offset..<(offset + 512), with: header)
        try shard.write(to: URL(fileURLWithPath: shards[0]))

        let tar = try TarReader(path: shards[0])
        while try tar.next() != nil {}
        let damage = try XCTUnwrap(tar.damage)
        XCTAssertEqual(damage.line, offset)
        XCTAssertTrue(damage.reason.contains("entry \(name) claims \(size) bytes"), damage.reason)

        let reader = try WebDataset.Reader(shards: shards)
        XCTAssertEqual(try reader.readAll().map(\.id), ["s0", "s2", "s3"])
        XCTAssertEqual(reader.skipped.map(\.file), [shards[0]])
        XCTAssertTrue(reader.skipped[0].reason.hasPrefix("truncated tar") && reader.skipped[0].reason.contains("\(size)"), reader.skipped[0].reason)

        // vlp data inspect counts the damage and goes on, as it does for any damaged shard.
        let inspected = try runVLP(["data", "inspect", folder + "/shard-{000000..000001}.tar"])
        XCTAssertEqual(inspected.status, 0, inspected.errors)
        XCTAssertTrue(inspected.output.contains("samples:        3") && inspected.output.contains("bad (skipped):  1"), inspected.output)
        XCTAssertTrue(inspected.output.contains("claims \(size) bytes"), inspected.output)
    }

    /// Pax record lengths are untrusted: too short for their own text, or near Int.max.
    func testPaxRecordLengthsAreChecked() {
        XCTAssertEqual(TarHeader.paxPath(Data("11 path=ab\n".utf8)), "ab")
        XCTAssertNil(TarHeader.paxPath(Data("1 path=ab\n".utf8)))
        XCTAssertNil(TarHeader.paxPath(Data("\(Int.max) path=ab\n".utf8)))
        XCTAssertEqual(TarHeader.paxPath(Data("11 path=ab\n3 x".utf8)), "ab")
    }

    func testBadGroupsAreSkipped() throws {
        let folder = try makeDataTestFolder()
        let path = folder + "/hand.tar"
        let tar = try TarWriter(path: path)
        let image = dataTestPPM(dataTestImage(seed: 1))
        try tar.add(name: "ok.png", data: image)
        try tar.add(name: "ok.txt", data: Data("fine\n".utf8))
        try tar.add(name: "noimage.txt", data: Data("text only".utf8))
        try tar.add(name: "badjson.jpg", data: image)
        try tar.add(name: "badjson.json", data: Data("{not json".utf8))
        try tar.add(name: "empty.png", data: image)
        try tar.add(name: "empty.txt", data: Data("  \n".utf8))
        try tar.add(name: "notext.webp", data: image)
        try tar.add(name: "ok.png", data: image)                 // key seen before
        try tar.add(name: "ok.txt", data: Data("again".utf8))
        try tar.add(name: "twice.png", data: image)
        try tar.add(name: "twice.png", data: image)
        try tar.add(name: "twice.txt", data: Data("t".utf8))
        try tar.add(name: "labelled.png", data: image)
        try tar.add(name: "labelled.cls", data: Data("7".utf8))
        try tar.finish()
        let reader = try WebDataset.Reader(shards: [path])
        let samples = try reader.readAll()
        XCTAssertEqual(samples.map(\.id), ["ok", "labelled"])
        XCTAssertEqual(samples[0].texts, [SampleText("fine")])
        XCTAssertEqual(samples[1].label, 7)
        XCTAssertEqual(samples[1].texts, [])
        XCTAssertEqual(reader.skipped.map(\.reason), [
            "sample noimage: no image (members: noimage.txt)",
            "sample badjson: badjson.json: bad JSON" + reader.skipped[1].reason.dropFirst("sample badjson: badjson.json: bad JSON".count),
            "sample empty: empty text",
            "sample notext: no text (.txt or .json) and no label",
            "duplicate key ok",
            "sample twice: member twice.png appears twice",
        ])
    }

    func testMissingShardFailsUpFront() throws {
        let folder = try makeDataTestFolder()
        XCTAssertThrowsError(try WebDataset.Reader(pattern: folder + "/shard-{0..1}.tar")) { error in
            XCTAssertEqual(error as? DatasetError, .fileNotFound(folder + "/shard-0.tar"))
        }
    }

    private func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe(), errors = Pipe()
        process.standardOutput = pipe
        process.standardError = errors
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, String(decoding: message, as: UTF8.self))
        return String(decoding: output, as: UTF8.self)
    }
}

final class BraceExpansionTests: TorchTestCase {
    func testRangesListsAndNesting() throws {
        XCTAssertEqual(try BraceExpansion.expand("shard-{000..003}.tar"),
                       ["shard-000.tar", "shard-001.tar", "shard-002.tar", "shard-003.tar"])
        XCTAssertEqual(try BraceExpansion.expand("s{8..11}"), ["s8", "s9", "s10", "s11"])
        XCTAssertEqual(try BraceExpansion.expand("s{3..1}"), ["s3", "s2", "s1"])
        XCTAssertEqual(try BraceExpansion.expand("{a,b}-{0..1}.tar"), ["a-0.tar", "a-1.tar", "b-0.tar", "b-1.tar"])
        XCTAssertEqual(try BraceExpansion.expand("x{a,b{1..2}}y"), ["xay", "xb1y", "xb2y"])
        XCTAssertEqual(try BraceExpansion.expand("{,pre}fix"), ["fix", "prefix"])
        XCTAssertEqual(try BraceExpansion.expand("plain.tar"), ["plain.tar"])
        XCTAssertEqual(try BraceExpansion.expand("lit{x}eral"), ["lit{x}eral"])
        XCTAssertEqual(try BraceExpansion.expand("{000..099}").count, 100)
        XCTAssertEqual(try BraceExpansion.expand("{000..099}").last, "099")
    }

    func testUnbalancedBracesAreErrors() {
        XCTAssertThrowsError(try BraceExpansion.expand("shard-{0..3.tar"))
        XCTAssertThrowsError(try BraceExpansion.expand("shard-0..3}.tar"))
        XCTAssertThrowsError(try BraceExpansion.expand("{0..99999999}"))
    }
}
