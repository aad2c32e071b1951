import Foundation
import XCTest
@testable import VLP

final class NumpyArrayFileTests: TorchTestCase {
    /// The bytes numpy 1.24's `np.save` writes for `np.arange(6, dtype='<f4').reshape(2, 3)`:
    /// header length 118, data from byte 128.
    func testEncodingMatchesNumpyLayout() throws {
        let data = [UInt8](try NumpyArrayFile.encode([0, 1, 2, 3, 4, 5], shape: [2, 3]))
        XCTAssertEqual(data.count, 152)
        XCTAssertEqual(Array(data[0..<10]), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 118, 0])
        let header = String(decoding: data[10..<128], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), header)
        XCTAssertTrue(header.hasSuffix(" \n"))
        XCTAssertEqual(Array(data[132..<136]), [0, 0, 0x80, 0x3F], "1.0 as little-endian float32")
        let vector = String(decoding: try NumpyArrayFile.encode([1, 2, 3, 4, 5], shape: [5])[10..<70], as: UTF8.self)
        XCTAssertTrue(vector.contains("'shape': (5,)"), "a 1-D shape keeps Python's trailing comma: \(vector)")
    }

    func testRoundTripAndErrors() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vlp-\(UUID().uuidString).npy")
        defer { try? FileManager.default.removeItem(at: url) }
        let values: [Float] = (0..<35).map { Float($0) * 0.37 - 3 }
        try NumpyArrayFile.write(values, shape: [5, 7], to: url)
        let (shape, read) = try NumpyArrayFile.read(url)
        XCTAssertEqual(shape, [5, 7])
        XCTAssertEqual(read, values)
        XCTAssertThrowsError(try NumpyArrayFile.encode([1, 2, 3], shape: [2, 2])) { XCTAssertTrue("\($0)".contains("[2, 2]"), "\($0)") }
        // Crafted shapes: an element count that overflows (2^62 × 4 × 4 bytes wraps to 0), a negative dimension.
        for (shape, data) in [("4611686018427387904, 4", Data()), ("-1, -1", Data(count: 4))] {
            let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(shape)), }".padding(toLength: 118, withPad: " ", startingAt: 0) + "\n"
            try (Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 119, 0]) + Data(header.utf8) + data).write(to: url)
            XCTAssertThrowsError(try NumpyArrayFile.read(url)) { error in
                XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains("negative dimension or more elements"), "\(error)")
            }
        }
        try Data("not numpy".utf8).write(to: url)
        XCTAssertThrowsError(try NumpyArrayFile.read(url)) { XCTAssertTrue("\($0)".contains(url.path), "\($0)") }
    }
}
