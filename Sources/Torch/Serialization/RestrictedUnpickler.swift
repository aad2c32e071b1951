import CTorch
import Foundation

/// A restricted unpickler for PyTorch checkpoints. It understands only the opcodes that dicts,
/// lists, tuples, strings, numbers and tensors need, and only these callables:
/// `collections.OrderedDict`, `torch._utils._rebuild_tensor(_v2)`, `torch._utils._rebuild_parameter`
/// and the `torch.*Storage` types. Anything else is an error naming what was found; no code is
/// ever executed. Tensors refer to storages by key; `tensors(from:storage:)` materialises them.
///
/// Untrusted numbers are checked before use: lengths and counts against the bytes left, sizes
/// and strides against the storage (with overflow-checked arithmetic). Containers nest at most
/// `maxNestingDepth` deep, and a dict or list placed in another may not change afterwards, so
/// the recorded depth is exact and no cycle can be built; flattening stops after
/// `maxFlattenedEntries` entries (a dict shared by memo references counts each time it appears).
struct RestrictedUnpickler {
    /// Dicts, lists and tuples nested deeper than this are refused (real checkpoints nest a few levels).
    static let maxNestingDepth = 100
    /// The most dict entries flattening visits.
    static let maxFlattenedEntries = 1_000_000

    /// `depth` counts the containers down to the deepest leaf, itself included; a box becomes
    /// sealed when it is placed in another container.
    final class ListBox { var items: [Value] = []; var depth = 1; var isSealed = false }
    final class DictBox { var entries: [(Value, Value)] = []; var depth = 1; var isSealed = false }

    struct StorageRef { let key: String; let dtype: DType }
    struct TensorRef { let storage: StorageRef; let offset: Int; let size: [Int]; let stride: [Int] }

    indirect enum Value {
        case none, mark
        case bool(Bool), int(Int), float(Double), string(String), bytes(Data)
        case tuple([Value], depth: Int), list(ListBox), dict(DictBox)
        case global(String), storage(StorageRef), tensor(TensorRef)

        /// Containers nested in this value, itself included (0 for anything else).
        var depth: Int {
            switch self {
            case .tuple(_, let depth): depth
            case .list(let box): box.depth
            case .dict(let box): box.depth
            default: 0
            }
        }
    }

    static let storageTypes: [String: DType] = [
        "torch.FloatStorage": .float32, "torch.DoubleStorage": .float64, "torch.HalfStorage": .float16,
        "torch.BFloat16Storage": .bfloat16, "torch.LongStorage": .int64, "torch.IntStorage": .int32,
        "torch.ShortStorage": .int16, "torch.CharStorage": .int8, "torch.ByteStorage": .uint8, "torch.BoolStorage": .bool,
    ]
    static let callables: Set<String> = [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter",
    ]

    let data: Data
    let source: String
    var position: Int

    init(data: Data, source: String) {
        self.data = data
        self.source = source
        self.position = data.startIndex
    }

    func fail(_ reason: String) -> CheckpointFormatError { CheckpointFormatError(source: source, reason: reason) }

    /// Storage keys seen in persistent ids, with their element types.
    private(set) var storageDTypes: [String: DType] = [:]

    /// Tensors of an unpickled object under dotted names (nested dicts flattened, other leaves
    /// skipped); `storage` returns the raw bytes of a storage key.
    func tensors(from object: Value, storage: (String) throws -> Data) throws -> [String: Tensor] {
        var cache: [String: Data] = [:]
        var result: [String: Tensor] = [:]
        func make(_ ref: TensorRef, _ name: String) throws -> Tensor {
            if cache[ref.storage.key] == nil { cache[ref.storage.key] = try storage(ref.storage.key) }
            return try materialize(ref, bytes: cache[ref.storage.key]!, name: name)
        }
        var budget = Self.maxFlattenedEntries
        try flatten(object, prefix: "", make, budget: &budget, into: &result)
        return result
    }

    mutating func readInt64() throws -> Int {
        guard data.endIndex - position >= 8 else { throw fail("truncated storage header at byte \(position)") }
        let value = data[position..<(position + 8)].withUnsafeBytes { $0.loadUnaligned(as: Int64.self).littleEndian }
        position += 8
        return Int(value)
    }

    /// Takes the next `n` raw bytes (legacy files put storages after the pickles).
    mutating func rawBytes(_ n: Int, for key: String) throws -> Data {
        guard n >= 0, n <= data.endIndex - position else {
            throw fail("storage \(key) needs \(n) bytes, \(data.endIndex - position) remain (truncated file?)")
        }
        defer { position += n }
        return data[position..<(position + n)]
    }

    private func flatten(_ value: Value, prefix: String, _ make: (TensorRef, String) throws -> Tensor,
                         budget: inout Int, into result: inout [String: Tensor]) throws {
        switch value {
        case .tensor(let ref):
            result[prefix] = try make(ref, prefix)
        case .dict(let box):
            for (key, child) in box.entries {
                budget -= 1
                guard budget >= 0 else {
                    throw fail("more than \(Self.maxFlattenedEntries) dict entries to flatten (the limit; shared dicts count each time they appear)")
                }
                let name: String
                switch key {
                case .string(let s): name = s
                case .int(let i): name = String(i)
                default: continue
                }
                try flatten(child, prefix: prefix.isEmpty ? name : "\(prefix).\(name)", make, budget: &budget, into: &result)
            }
        default:
            break
        }
    }

    private func materialize(_ ref: TensorRef, bytes: Data, name: String) throws -> Tensor {
        let elements = bytes.count / ref.storage.dtype.byteSize
        let storage = try bytes.withUnsafeBytes { try Tensor(bytes: $0, shape: [elements], dtype: ref.storage.dtype) }
        guard ref.size.count == ref.stride.count else {
            throw fail("tensor \(name) has \(ref.size.count) sizes but \(ref.stride.count) strides")
        }
        guard ref.offset >= 0, ref.size.allSatisfy({ $0 >= 0 }), ref.stride.allSatisfy({ $0 >= 0 }),
              SafeTensors.byteCount(ref.size, ref.storage.dtype) != nil,
              ref.size.contains(0) || Self.lastElement(ref).map({ $0 < elements }) == true else {
            throw fail("tensor \(name) with size \(ref.size), stride \(ref.stride), offset \(ref.offset) exceeds its storage of \(elements)")
        }
        let size = ref.size.map(Int64.init), stride = ref.stride.map(Int64.init)
        let view = try wrap(vt_as_strided(storage.handle, size, stride, size.count, Int64(ref.offset)), "as_strided for \(name)")
        return try view.contiguous().clone()
    }

    /// The storage index of a view's last element (sizes and strides non-negative, none empty);
    /// nil when it does not fit in an `Int`.
    private static func lastElement(_ ref: TensorRef) -> Int? {
        var furthest = ref.offset
        for (size, stride) in zip(ref.size, ref.stride) {
            let (reach, overflow) = (size - 1).multipliedReportingOverflow(by: stride)
            let (sum, overflowSum) = furthest.addingReportingOverflow(reach)
            if overflow || overflowSum { return nil }
            furthest = sum
        }
        return furthest
    }

    // MARK: the unpickler

    private mutating func byte() throws -> UInt8 {
        guard position < data.endIndex else { throw fail("unexpected end of pickle at byte \(position)") }
        defer { position += 1 }
        return data[position]
    }

    private mutating func bytes(_ n: Int) throws -> Data {
        guard n >= 0, n <= data.endIndex - position else { throw fail("unexpected end of pickle at byte \(position) reading \(n) bytes") }
        defer { position += n }
        return data[position..<(position + n)]
    }

    private mutating func littleEndian(_ n: Int) throws -> Int {
        let b = try bytes(n)
        var value = 0
        for (i, byte) in b.enumerated() { value |= Int(byte) << (8 * i) }
        return value
    }

    private mutating func line() throws -> String {
        guard let end = data[position...].firstIndex(of: 0x0A) else { throw fail("unterminated GLOBAL at byte \(position)") }
        defer { position = end + 1 }
        return String(decoding: data[position..<end], as: UTF8.self)
    }

    /// Reads one pickle (up to STOP) and returns its value.
    mutating func unpickle() throws -> Value {
        var stack: [Value] = []
        var memo: [Int: Value] = [:]
        func pop() throws -> Value {
            guard let v = stack.popLast() else { throw fail("pickle stack underflow at byte \(position)") }
            return v
        }
        func popToMark() throws -> [Value] {
            guard let markIndex = stack.lastIndex(where: { if case .mark = $0 { return true }; return false }) else {
                throw fail("pickle MARK missing at byte \(position)")
            }
            let items = Array(stack[(markIndex + 1)...])
            stack.removeSubrange(markIndex...)
            return items
        }
        // The depth of a container holding `items`; seals the dicts and lists among them.
        func depth(holding items: [Value], at offset: Int) throws -> Int {
            var deepest = 0
            for item in items {
                switch item {
                case .list(let box): box.isSealed = true
                case .dict(let box): box.isSealed = true
                default: break
                }
                deepest = max(deepest, item.depth)
            }
            guard deepest < Self.maxNestingDepth else {
                throw fail("containers nested deeper than the limit of \(Self.maxNestingDepth) levels at byte \(offset)")
            }
            return deepest + 1
        }
        func tuple(_ items: [Value], at offset: Int) throws -> Value { .tuple(items, depth: try depth(holding: items, at: offset)) }
        while true {
            let opcodeOffset = position
            let op = try byte()
            switch op {
            case 0x80: _ = try byte()                                   // PROTO
            case 0x95: _ = try bytes(8)                                 // FRAME
            case 0x2E: return try pop()                                 // STOP
            case 0x28: stack.append(.mark)                              // MARK
            case 0x4E: stack.append(.none)                              // NONE
            case 0x88: stack.append(.bool(true))                        // NEWTRUE
            case 0x89: stack.append(.bool(false))                       // NEWFALSE
            case 0x4B: stack.append(.int(Int(try byte())))              // BININT1
            case 0x4D: stack.append(.int(try littleEndian(2)))          // BININT2
            case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try littleEndian(4)))))  // BININT
            case 0x8A, 0x8B:                                            // LONG1, LONG4
                let n = op == 0x8A ? Int(try byte()) : try littleEndian(4)
                let b = try bytes(n)
                guard n <= 16 else { throw fail("integer of \(n) bytes at byte \(opcodeOffset) is too large") }
                // Two's complement, little-endian; values beyond 64 bits keep their hex form for the magic check.
                if n <= 8 {
                    var value: Int64 = 0
                    for (i, byte) in b.enumerated() { value |= Int64(byte) << (8 * Int64(i)) }
                    if n > 0, n < 8, b.last! & 0x80 != 0 { value -= Int64(1) << (8 * Int64(n)) }
                    stack.append(.int(Int(value)))
                } else {
                    stack.append(.string("0x" + b.reversed().map { String(format: "%02x", $0) }.joined().drop { $0 == "0" }))
                }
            case 0x47:                                                  // BINFLOAT (big-endian)
                let b = try bytes(8)
                stack.append(.float(Double(bitPattern: b.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))
            case 0x58, 0x8C, 0x55, 0x54:                                // BINUNICODE, SHORT_BINUNICODE, SHORT_BINSTRING, BINSTRING
                let n = (op == 0x8C || op == 0x55) ? Int(try byte()) : try littleEndian(4)
                stack.append(.string(String(decoding: try bytes(n), as: UTF8.self)))
            case 0x43, 0x42:                                            // SHORT_BINBYTES, BINBYTES
                let n = op == 0x43 ? Int(try byte()) : try littleEndian(4)
                stack.append(.bytes(Data(try bytes(n))))
            case 0x29: stack.append(.tuple([], depth: 1))               // EMPTY_TUPLE
            case 0x74: stack.append(try tuple(try popToMark(), at: opcodeOffset))   // TUPLE
            case 0x85: stack.append(try tuple([try pop()], at: opcodeOffset))       // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); stack.append(try tuple([a, b], at: opcodeOffset))
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(try tuple([a, b, c], at: opcodeOffset))
            case 0x5D: stack.append(.list(ListBox()))                   // EMPTY_LIST
            case 0x7D: stack.append(.dict(DictBox()))                   // EMPTY_DICT
            case 0x61, 0x65:                                            // APPEND, APPENDS
                let items = op == 0x61 ? [try pop()] : try popToMark()
                let itemsDepth = try depth(holding: items, at: opcodeOffset)
                guard case .list(let box) = stack.last else { throw fail("APPEND to a non-list at byte \(opcodeOffset)") }
                guard !box.isSealed else { throw fail("APPEND to a list already inside another container at byte \(opcodeOffset)") }
                box.items += items
                box.depth = max(box.depth, itemsDepth)
            case 0x73, 0x75:                                            // SETITEM, SETITEMS
                let items: [Value]
                if op == 0x73 { let v = try pop(), k = try pop(); items = [k, v] } else { items = try popToMark() }
                let itemsDepth = try depth(holding: items, at: opcodeOffset)
                guard case .dict(let box) = stack.last, items.count % 2 == 0 else { throw fail("SETITEM on a non-dict at byte \(opcodeOffset)") }
                guard !box.isSealed else { throw fail("SETITEM on a dict already inside another container at byte \(opcodeOffset)") }
                for i in stride(from: 0, to: items.count, by: 2) { box.entries.append((items[i], items[i + 1])) }
                box.depth = max(box.depth, itemsDepth)
            case 0x71: memo[Int(try byte())] = stack.last               // BINPUT
            case 0x72: memo[try littleEndian(4)] = stack.last           // LONG_BINPUT
            case 0x94: memo[memo.count] = stack.last                    // MEMOIZE
            case 0x68, 0x6A:                                            // BINGET, LONG_BINGET
                let index = op == 0x68 ? Int(try byte()) : try littleEndian(4)
                guard let v = memo[index] else { throw fail("memo entry \(index) missing at byte \(opcodeOffset)") }
                stack.append(v)
            case 0x63:                                                  // GLOBAL
                let name = "\(try line()).\(try line())"
                guard Self.callables.contains(name) || Self.storageTypes[name] != nil else {
                    throw fail("refusing global \(name) at byte \(opcodeOffset): only tensors, dicts, lists and primitives are read")
                }
                stack.append(.global(name))
            case 0x51:                                                  // BINPERSID
                stack.append(try persistentLoad(try pop()))
            case 0x52:                                                  // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try reduce(callable, args, at: opcodeOffset))
            case 0x62:                                                  // BUILD: state of a dict or tensor (metadata), ignored
                _ = try pop()
                guard let top = stack.last else { throw fail("BUILD with empty stack") }
                switch top {
                case .dict, .tensor: break
                default: throw fail("BUILD on an unsupported object at byte \(opcodeOffset)")
                }
            default:
                throw fail(String(format: "unsupported pickle opcode 0x%02x at byte %d", op, opcodeOffset))
            }
        }
    }

    private mutating func persistentLoad(_ id: Value) throws -> Value {
        guard case .tuple(let parts, _) = id, parts.count >= 5, case .string("storage") = parts[0],
              case .global(let typeName) = parts[1], case .string(let key) = parts[2] else {
            throw fail("unsupported persistent id (expected a storage reference)")
        }
        guard let dtype = Self.storageTypes[typeName] else { throw fail("unknown storage type \(typeName)") }
        storageDTypes[key] = dtype
        if parts.count >= 6, case .tuple(let view, _) = parts[5], !view.isEmpty {
            throw fail("storage views (view_metadata) are not supported")
        }
        return .storage(StorageRef(key: key, dtype: dtype))
    }

    private func reduce(_ callable: Value, _ args: Value, at offset: Int) throws -> Value {
        guard case .global(let name) = callable, case .tuple(let a, _) = args else {
            throw fail("REDUCE of a non-callable at byte \(offset)")
        }
        func ints(_ v: Value) throws -> [Int] {
            guard case .tuple(let items, _) = v else { throw fail("expected a tuple of ints in \(name)") }
            return try items.map { guard case .int(let i) = $0 else { throw fail("expected an int in \(name)") }; return i }
        }
        switch name {
        case "collections.OrderedDict":
            return .dict(DictBox())
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
            guard a.count >= 4, case .storage(let storage) = a[0], case .int(let offset) = a[1] else {
                throw fail("malformed \(name) arguments at byte \(offset)")
            }
            return .tensor(TensorRef(storage: storage, offset: offset, size: try ints(a[2]), stride: try ints(a[3])))
        case "torch._utils._rebuild_parameter":
            guard let first = a.first, case .tensor = first else { throw fail("malformed _rebuild_parameter at byte \(offset)") }
            return first
        default:
            throw fail("\(name) cannot be called at byte \(offset)")
        }
    }
}
