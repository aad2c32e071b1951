import CTorch

/// An error from libtorch or from this library's own checks. `message` carries libtorch's
/// text unchanged (for a matmul of mismatched shapes it names both shapes).
public struct TorchError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let message: String

    public init(_ operation: String, _ message: String) {
        self.operation = operation
        self.message = message
    }

    public var description: String { "\(operation): \(message)" }

    /// The error libtorch stored for this thread, cleared once read.
    static func lastError(_ operation: String) -> TorchError {
        let text = vt_last_error().map { String(cString: $0) } ?? "unknown error"
        vt_clear_error()
        return TorchError(operation, text)
    }
}

/// Wraps a handle returned by CTorch, throwing libtorch's message when it is NULL.
@inline(__always)
func wrap(_ handle: vt_tensor?, _ operation: @autoclosure () -> String) throws -> Tensor {
    guard let handle else { throw TorchError.lastError(operation()) }
    return Tensor(owning: handle)
}

/// Checks a CTorch status code (0 = success).
@inline(__always)
func check(_ status: Int32, _ operation: @autoclosure () -> String) throws {
    if status != 0 { throw TorchError.lastError(operation()) }
}
