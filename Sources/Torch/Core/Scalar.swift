import CTorch

/// A number passed to libtorch as a scalar operand; integral scalars keep integer tensors
/// integral, as in PyTorch.
public protocol ScalarConvertible {
    var scalar: vt_scalar { get }
}
extension Double: ScalarConvertible { public var scalar: vt_scalar { vt_scalar(f: self, i: 0, kind: 0) } }
extension Float: ScalarConvertible { public var scalar: vt_scalar { vt_scalar(f: Double(self), i: 0, kind: 0) } }
extension Int: ScalarConvertible { public var scalar: vt_scalar { vt_scalar(f: 0, i: Int64(self), kind: 1) } }
extension Int64: ScalarConvertible { public var scalar: vt_scalar { vt_scalar(f: 0, i: self, kind: 1) } }
extension Int32: ScalarConvertible { public var scalar: vt_scalar { vt_scalar(f: 0, i: Int64(self), kind: 1) } }
extension Bool: ScalarConvertible { public var scalar: vt_scalar { vt_scalar(f: 0, i: self ? 1 : 0, kind: 2) } }
