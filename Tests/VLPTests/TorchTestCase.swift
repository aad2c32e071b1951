import Torch
import XCTest

/// The base of this target's test cases: before the first test of each class runs, libtorch gets
/// the thread and denormal settings `vlp` starts with (`TorchThreads.configureDefaults`), so the
/// tests see the numerics the program has. Applied once per process.
class TorchTestCase: XCTestCase {
    private static let configured: Void = TorchThreads.configureDefaults()

    override class func setUp() {
        super.setUp()
        _ = configured
    }
}
