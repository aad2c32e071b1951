import CTorch

/// A layer or model: a tree of submodules owning parameters and buffers, enumerated under
/// dotted names identical to PyTorch's `state_dict` keys (`encoder.layers.0.self_attn.q_proj.weight`).
///
/// Members are found by reflection: properties wrapped in `@Parameter` / `@Buffer` are tensors,
/// properties holding a `Module`, an optional `Module` or an array of modules are children
/// (arrays number their elements). The Swift property name is the key unless the wrapper
/// gives one (`@Child(key:)`, `@Parameter(key:)`). Subclasses that need other keys override
/// `children()`.
open class Module {
    /// Training mode (dropout active, batch statistics); `eval()` turns it off recursively.
    public private(set) var isTraining = true

    public init() {}

    // MARK: enumeration

    struct Members {
        var parameters: [(String, Tensor)] = []
        var buffers: [(String, Tensor)] = []
        var children: [(String, Module)] = []
    }

    func ownMembers() -> Members {
        var members = Members()
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror {
            mirrors.append(m)
            mirror = m.superclassMirror
        }
        for m in mirrors.reversed() {
            for child in m.children {
                guard let label = child.label else { continue }
                let name = label.hasPrefix("_") ? String(label.dropFirst()) : label
                if let p = child.value as? ParameterProperty {
                    if let t = p.tensor { members.parameters.append((p.keyOverride ?? name, t)) }
                } else if let b = child.value as? BufferProperty {
                    if let t = b.tensor { members.buffers.append((b.keyOverride ?? name, t)) }
                } else if let c = child.value as? ChildProperty {
                    Self.appendChildren(c.anyValue, key: c.keyOverride, to: &members.children)
                } else {
                    Self.appendChildren(child.value, key: name, to: &members.children)
                }
            }
        }
        return members
    }

    static func appendChildren(_ value: Any, key: String, to children: inout [(String, Module)]) {
        if let module = value as? Module {
            children.append((key, module))
        } else if let modules = value as? [Module] {
            for (i, module) in modules.enumerated() { children.append(("\(key).\(i)", module)) }
        }
    }

    /// Direct submodules with their keys.
    open func children() -> [(name: String, module: Module)] {
        ownMembers().children.map { (name: $0.0, module: $0.1) }
    }

    /// Every module of the tree with its dotted path ("" for self), parents first.
    public func namedModules(prefix: String = "") -> [(name: String, module: Module)] {
        var result: [(name: String, module: Module)] = [(prefix, self)]
        for (name, child) in children() {
            result += child.namedModules(prefix: prefix.isEmpty ? name : "\(prefix).\(name)")
        }
        return result
    }

    /// Trainable tensors under their state-dict keys, in registration order.
    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        collect(prefix: "") { $0.parameters }
    }

    public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

    public func namedBuffers() -> [(name: String, tensor: Tensor)] {
        collect(prefix: "") { $0.buffers }
    }

    /// Parameters and buffers under their keys, module by module (as PyTorch orders them).
    public func stateDict() -> [(name: String, tensor: Tensor)] {
        collect(prefix: "") { $0.parameters + $0.buffers }
    }

    private func collect(prefix: String, _ pick: (Members) -> [(String, Tensor)]) -> [(name: String, tensor: Tensor)] {
        let own = ownMembers()
        var result = pick(own).map { (name: prefix + $0.0, tensor: $0.1) }
        for (name, child) in children() {
            result += child.collect(prefix: "\(prefix)\(name).", pick)
        }
        return result
    }

    /// Number of scalar parameters (trainable only when `trainableOnly`).
    public func parameterCount(trainableOnly: Bool = false) -> Int {
        parameters().filter { !trainableOnly || $0.requiresGrad }.reduce(0) { $0 + $1.count }
    }

    // MARK: modes

    /// Sets training mode on this module and every submodule.
    public func train(_ on: Bool = true) {
        for (_, module) in namedModules() { module.isTraining = on }
    }

    public func eval() { train(false) }

    /// Stops (or restarts) gradient tracking for every parameter.
    public func freeze(_ frozen: Bool = true) throws {
        for p in parameters() { try p.requiringGrad(!frozen) }
    }

    /// Forgets every parameter's accumulated gradient.
    public func zeroGrad() {
        for p in parameters() { p.zeroGrad() }
    }

    /// Moves (and/or converts) every parameter and buffer in place, keeping tensor identity so
    /// that optimizers holding them stay valid.
    public func to(_ device: Device, dtype: DType? = nil) throws {
        for (name, t) in stateDict() {
            let target = try withNoGrad { try t.to(t.dtype.isFloatingPoint ? dtype : nil, device: device) }
            try check(vt_set_data(t.handle, target.handle), "moving \(name) to \(device)")
        }
    }
}

/// A module that maps one tensor to one tensor, so it can sit in a `Sequential`.
public protocol UnaryLayer: AnyObject {
    func callAsFunction(_ x: Tensor) throws -> Tensor
}
