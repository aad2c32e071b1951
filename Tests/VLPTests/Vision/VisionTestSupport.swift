import Foundation
import XCTest
@testable import VLP

/// Paths, the fixture manifest and comparison helpers shared by the vision tests.
enum VisionFixtures {
    /// The repository root, from this file's path (Tests/VLPTests/Vision/…).
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let directory = repoRoot.appendingPathComponent("Tests/VLPTests/Fixtures/vision")

    static func path(_ relative: String) -> String { directory.appendingPathComponent(relative).path }

    static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(relative)))
    }

    /// A real photo from assets/photos; fails the test with the fix when the assets are missing.
    static func photoPath(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let path = repoRoot.appendingPathComponent("assets/photos/\(name)").path
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("missing \(path): run `make assets` (scripts/fetch-assets.sh) first", file: file, line: line)
            throw XCTSkip("assets missing")
        }
        return path
    }

    static let manifest: Manifest = {
        do {
            let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
            return try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            // A broken fixture set is a test failure, reported by every test that reads it.
            return Manifest(edgeDecodes: [], badInputs: [], photoDecodes: [], scaledDecodes: [], resizeCases: [],
                            normalizationBits: [:], gzip: nil, loadError: "\(error)")
        }
    }()

    struct Manifest: Decodable {
        var edgeDecodes: [EdgeDecode]
        var badInputs: [BadInput]
        var photoDecodes: [PhotoDecode]
        var scaledDecodes: [PhotoDecode]
        var resizeCases: [ResizeCase]
        var normalizationBits: [String: [[UInt32]]]
        var gzip: Gzip?
        var loadError: String? = nil
    }

    struct EdgeDecode: Decodable { var file: String; var mode: String; var expected: String; var width: Int; var height: Int }
    struct BadInput: Decodable { var file: String; var error: String }
    struct PhotoDecode: Decodable {
        var photo: String; var stride: Int; var width: Int; var height: Int; var fnv1a64: String; var mean: [Double]
        var sample: String; var scaleDenominator: Int?; var targetShortSide: Int?
    }
    struct ResizeCase: Decodable {
        var name: String; var photo: String; var ops: [Operation]; var stride: Int
        var width: Int; var height: Int; var fnv1a64: String; var mean: [Double]; var sample: String
    }
    struct Operation: Decodable {
        var op: String
        var box: [Int]?; var size: Int?; var width: Int?; var height: Int?; var filter: String?
    }
    struct Gzip: Decodable { var expected: String; var singleLength: Int }

    static func checkedManifest(file: StaticString = #filePath, line: UInt = #line) throws -> Manifest {
        if let error = manifest.loadError {
            XCTFail("cannot read \(directory.path)/manifest.json: \(error)", file: file, line: line)
            throw XCTSkip("no manifest")
        }
        return manifest
    }

    /// Pillow's stored sample: every `stride`-th row and column of its output, as a PNG.
    static func sample(_ relative: String) throws -> RGBImage {
        try ImageDecoder().decode(contentsOf: path(relative))
    }
}

/// FNV-1a, 64-bit, as written in the fixture script.
func fnv1a64(_ bytes: [UInt8]) -> String {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    let hex = String(h, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}

extension RGBImage {
    /// Every `stride`-th row and column, as the fixture script's `arr[::s, ::s]`.
    func strided(_ stride: Int) -> RGBImage {
        let w = (width + stride - 1) / stride, h = (height + stride - 1) / stride
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 { out[(y * w + x) * 3 + c] = pixels[((y * stride) * width + x * stride) * 3 + c] }
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }

    func channelMeans() -> [Double] {
        var sums = [Double](repeating: 0, count: 3)
        for i in 0..<(width * height) { for c in 0..<3 { sums[c] += Double(pixels[i * 3 + c]) } }
        return sums.map { $0 / Double(width * height) }
    }

    /// The largest absolute difference of any sample against `other` (same size required).
    func maxAbsDifference(_ other: RGBImage) -> Int {
        precondition(width == other.width && height == other.height)
        var worst = 0
        for i in 0..<pixels.count { worst = max(worst, abs(Int(pixels[i]) - Int(other.pixels[i]))) }
        return worst
    }
}

/// A seeded generator for tests (SplitMix64): same seed, same numbers.
struct TestGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Prints a parity line the report quotes (`swift test` shows it).
func reportParity(_ what: String, maxDiff: Int, meanDiff: Double? = nil) {
    let mean = meanDiff.map { String(format: ", |Δmean| %.3f", $0) } ?? ""
    print("vision-parity: \(what): max |Δ| = \(maxDiff)\(mean)")
}
