/// The momentum-teacher update θₜ ← m·θₜ + (1 − m)·θₛ over parameters matched by name
/// (R2D2's and ALBEF's EMA teacher). Buffers are copied.
public enum ExponentialMovingAverage {
    public static func update(teacher: Module, student: Module, momentum: Double) throws {
        let source = Dictionary(student.stateDict().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        try withNoGrad {
            let params = Set(teacher.namedParameters().map(\.name))
            for (name, t) in teacher.stateDict() {
                guard let s = source[name] else {
                    throw TorchError("ExponentialMovingAverage", "student has no \(name)")
                }
                guard s.shape == t.shape else {
                    throw TorchError("ExponentialMovingAverage", "\(name): teacher \(t.shape), student \(s.shape)")
                }
                if params.contains(name) {
                    try t.lerp_(s, weight: 1 - momentum)
                } else {
                    try t.copy_(s)
                }
            }
        }
    }
}
