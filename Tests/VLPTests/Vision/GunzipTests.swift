import CImageCodecs
import XCTest

/// vlp_gunzip lives in the image codecs' C target (zlib comes with libpng) and serves the text code.
final class GunzipTests: TorchTestCase {
    private func gunzip(_ bytes: [UInt8]) -> (code: Int32, output: [UInt8], message: String) {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var count = 0
        var message = [CChar](repeating: 0, count: 128)
        let code = bytes.withUnsafeBufferPointer { vlp_gunzip($0.baseAddress, $0.count, &out, &count, &message, 128) }
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
}
