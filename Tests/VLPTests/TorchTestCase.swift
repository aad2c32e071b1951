import Torch
import XCTest

/// The base of this target's test cases: before the first test of each class runs, libtorch gets
/// the thread and denormal settings `vlp` starts with (`TorchThreads.configureDefaults`), and
/// malloc the thresholds (`HeapSettings`), so the tests see the numerics and the allocator the
/// program has. Applied once per process.
class TorchTestCase: XCTestCase {
    private static let configured: Void = {
        TorchThreads.configureDefaults()
        HeapSettings.configureDefaults()
    }()

    override class func setUp() {
        super.setUp()
        _ = configured
    }
}
