import Foundation
import XCTest
@testable import VLP

/// Closed sets on the command line are parsed once, before any work: a wrong value is an error
/// naming the allowed ones (the model named is never opened).
final class CommandOptionTests: TorchTestCase {
    func testWrongFormatScenesPartOrDeviceFailsBeforeWorkNamingTheAllowedValues() throws {
        let format = try runVLP(["evaluate", "retrieval", "--checkpoint", "no-such-run", "--data", "pairs.jsonl", "--format", "jsonll"])
        XCTAssertEqual(format.status, 64, format.errors)
        for name in DatasetFormat.allCases.map(\.rawValue) { XCTAssertTrue(format.errors.contains(name), format.errors) }
        XCTAssertFalse(format.errors.contains("no-such-run"), "failed before opening the model: \(format.errors)")

        let part = try runVLP(["evaluate", "retrieval", "--checkpoint", "no-such-run", "--data", "scenes:icx:test"])
        XCTAssertEqual(part.status, 64, part.errors)
        XCTAssertTrue(part.errors.contains("pretrain, icm, iqm, icr, iqr"), part.errors)

        let kinds = try runVLP(["evaluate", "retrieval", "--checkpoint", "no-such-run", "--data", "scenes:icr:test", "--kinds", "title,headline"])
        XCTAssertEqual(kinds.status, 64, kinds.errors)
        XCTAssertTrue(kinds.errors.contains("\"headline\" is not a text kind"), kinds.errors)

        let device = try runVLP(["index", "--checkpoint", "no-such-run", "--images", "photos", "--out", "x.index", "--device", "gpu"])
        XCTAssertEqual(device.status, 64, device.errors)
        XCTAssertTrue(device.errors.contains("use cpu, cuda or cuda:N"), device.errors)
    }
}
