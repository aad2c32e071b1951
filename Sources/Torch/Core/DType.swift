import CTorch

/// Element types, with raw values equal to libtorch's `c10::ScalarType`.
public enum DType: Int32, CaseIterable, Sendable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, int16 = 2, int32 = 3, int64 = 4
    case float16 = 5, float32 = 6, float64 = 7, bool = 11, bfloat16 = 15

    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .float32, .float64, .bfloat16: return true
        default: return false
        }
    }

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .int16, .float16, .bfloat16: return 2
        case .int32, .float32: return 4
        case .int64, .float64: return 8
        }
    }

    public var description: String {
        switch self {
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .float16: return "float16"
        case .float32: return "float32"
        case .float64: return "float64"
        case .bool: return "bool"
        case .bfloat16: return "bfloat16"
        }
    }
}

/// A Swift type that can be an element of a tensor, for creation and `toArray`.
public protocol TensorElement {
    static var dtype: DType { get }
}
extension Float: TensorElement { public static var dtype: DType { .float32 } }
extension Double: TensorElement { public static var dtype: DType { .float64 } }
extension Int64: TensorElement { public static var dtype: DType { .int64 } }
extension Int32: TensorElement { public static var dtype: DType { .int32 } }
extension Int16: TensorElement { public static var dtype: DType { .int16 } }
extension Int8: TensorElement { public static var dtype: DType { .int8 } }
extension UInt8: TensorElement { public static var dtype: DType { .uint8 } }
extension Bool: TensorElement { public static var dtype: DType { .bool } }
extension Int: TensorElement { public static var dtype: DType { .int64 } }
#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
extension Float16: TensorElement { public static var dtype: DType { .float16 } }
#endif
