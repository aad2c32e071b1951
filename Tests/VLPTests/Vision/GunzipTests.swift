import CImageCodecs
import Foundation
@testable import VLP
import XCTest

/// vlp_gunzip lives in the image codecs' C target (zlib comes with libpng) and serves the text code.
final class GunzipTests: TorchTestCase {
    private func gunzip(_ bytes: [UInt8], limit: Int = 1 << 30) -> (code: Int32, output: [UInt8], message: String) {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var count = 0
        var message = [CChar](repeating: 0, count: 128)
        let code = bytes.withUnsafeBufferPointer { vlp_gunzip($0.baseAddress, $0.count, limit, &out, &count, &message, 128) }
        defer { free(out) }
        let output = out.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
        return (code, output, String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    func testMembersAndPadding() throws {
        let manifest = try VisionFixtures.checkedManifest()
        let gz = try XCTUnwrap(manifest.gzip)
        let expected = try VisionFixtures.bytes(gz.expected)
        let single = gunzip(try VisionFixtures.bytes("gzip/single.gz"))
        XCTAssertEqual(single.code, 0, single.message)
        XCTAssertEqual(single.output, Array(expected[0..<gz.singleLength]))
        for name in ["two_members.gz", "zero_padded.gz"] {
            let result = gunzip(try VisionFixtures.bytes("gzip/\(name)"))
            XCTAssertEqual(result.code, 0, "\(name): \(result.message)")
            XCTAssertEqual(result.output, expected, name)
        }
    }

    func testDamagedInputFailsWithBoundedMessage() throws {
        let cases: [(String, Int32)] = [("truncated.gz", Int32(VLP_ERR_TRUNCATED)), ("trailing_garbage.gz", Int32(VLP_ERR_CORRUPT)),
                                        ("corrupt.gz", Int32(VLP_ERR_CORRUPT))]
        for (name, code) in cases {
            let result = gunzip(try VisionFixtures.bytes("gzip/\(name)"))
            XCTAssertEqual(result.code, code, "\(name): \(result.message)")
            XCTAssertFalse(result.message.isEmpty)
            XCTAssertLessThan(result.message.utf8.count, 128)
        }
        XCTAssertEqual(gunzip([]).code, Int32(VLP_ERR_EMPTY))
        XCTAssertEqual(gunzip(Array("plain text".utf8)).code, Int32(VLP_ERR_UNKNOWN_FORMAT))
        // Every prefix of a valid stream fails cleanly.
        let two = try VisionFixtures.bytes("gzip/two_members.gz")
        for n in 1..<two.count where n != 76 {   // 76 = the end of the first member, a valid stream
            XCTAssertNotEqual(gunzip(Array(two[0..<n])).code, 0, "prefix \(n)")
        }
    }

    /// A gzip bomb is refused at the output limit, with the limit in the message, and output that
    /// fills the limit exactly is still whole.
    func testOutputLimit() throws {
        let manifest = try VisionFixtures.checkedManifest()
        let gz = try XCTUnwrap(manifest.gzip)
        let expected = try VisionFixtures.bytes(gz.expected)
        let stream = try VisionFixtures.bytes("gzip/two_members.gz")
        let exact = gunzip(stream, limit: expected.count)
        XCTAssertEqual(exact.code, 0, exact.message)
        XCTAssertEqual(exact.output, expected)
        let short = gunzip(stream, limit: expected.count - 1)
        XCTAssertEqual(short.code, Int32(VLP_ERR_TOO_LARGE))
        XCTAssertTrue(short.message.contains("limit of \(expected.count - 1) bytes"), short.message)
        // 10 MiB of zeros compress to ~10 KB; a 1 MiB limit stops it after 1 MiB.
        let bomb = try XCTUnwrap(Self.zeros(10 << 20))
        XCTAssertLessThan(bomb.count, 20_000)
        let refused = gunzip(bomb, limit: 1 << 20)
        XCTAssertEqual(refused.code, Int32(VLP_ERR_TOO_LARGE), refused.message)
        XCTAssertThrowsError(try Gzip.decompress(bomb, maximumBytes: 1 << 20)) { error in
            XCTAssertTrue("\(error)".contains("limit of 1048576 bytes"), "\(error)")
        }
        XCTAssertEqual(try Gzip.decompress(bomb).count, 10 << 20)
    }

    /// `count` zero bytes gzipped by gzip(1).
    private static func zeros(_ count: Int) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "head -c \(count) /dev/zero | gzip -c"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return [UInt8](data)
    }
}
