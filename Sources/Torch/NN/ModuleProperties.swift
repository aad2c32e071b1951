/// Property wrappers that tell `Module` what a stored property is and under which
/// checkpoint key it lives, so Swift names can read well while keys match PyTorch's
/// `state_dict` (`@Child(key: "q_proj") var queryProjection: Linear`).

/// A tensor or an optional tensor, as a parameter or buffer may be (`bias` is often optional).
public protocol TensorSlot {
    var slotTensor: Tensor? { get }
}
extension Tensor: TensorSlot { public var slotTensor: Tensor? { self } }
extension Optional: TensorSlot where Wrapped == Tensor { public var slotTensor: Tensor? { self } }

/// A trainable tensor; it is marked as requiring a gradient when set.
/// With a key and no initial value, set it in `init` through `_name.wrappedValue = …`.
@propertyWrapper
public struct Parameter<Value: TensorSlot> {
    var stored: Value?
    public let key: String?

    public var wrappedValue: Value {
        get {
            guard let stored else { preconditionFailure("@Parameter read before it was set in init") }
            return stored
        }
        set {
            stored = newValue
            Self.markTrainable(newValue)
        }
    }

    public init(wrappedValue: Value, key: String? = nil) {
        self.key = key
        self.wrappedValue = wrappedValue
    }

    public init(key: String) {
        self.key = key
    }

    static func markTrainable(_ value: Value) {
        if let t = value.slotTensor, t.dtype.isFloatingPoint, t.isLeaf { _ = try? t.requiringGrad() }
    }
}

/// A tensor saved in the state dict but not trained (BatchNorm's running statistics).
@propertyWrapper
public struct Buffer<Value: TensorSlot> {
    var stored: Value?
    public let key: String?

    public var wrappedValue: Value {
        get {
            guard let stored else { preconditionFailure("@Buffer read before it was set in init") }
            return stored
        }
        set { stored = newValue }
    }

    public init(wrappedValue: Value, key: String? = nil) {
        self.key = key
        self.stored = wrappedValue
    }

    public init(key: String) {
        self.key = key
    }
}

/// A submodule (or optional submodule, or array of submodules) under an explicit key.
/// Set it in `init` through `_name.wrappedValue = …`.
@propertyWrapper
public struct Child<Value> {
    var stored: Value?
    public let key: String

    public var wrappedValue: Value {
        get {
            guard let stored else { preconditionFailure("@Child(key: \"\(key)\") read before it was set in init") }
            return stored
        }
        set { stored = newValue }
    }

    public init(wrappedValue: Value, key: String) {
        self.key = key
        self.stored = wrappedValue
    }

    public init(key: String) {
        self.key = key
    }
}

protocol ParameterProperty { var keyOverride: String? { get }; var tensor: Tensor? { get } }
protocol BufferProperty { var keyOverride: String? { get }; var tensor: Tensor? { get } }
protocol ChildProperty { var keyOverride: String { get }; var anyValue: Any { get } }

extension Parameter: ParameterProperty {
    var keyOverride: String? { key }
    var tensor: Tensor? { stored?.slotTensor }
}
extension Buffer: BufferProperty {
    var keyOverride: String? { key }
    var tensor: Tensor? { stored?.slotTensor }
}
extension Child: ChildProperty {
    var keyOverride: String { key }
    var anyValue: Any { stored as Any }
}
