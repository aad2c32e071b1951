import Foundation

/// jieba's `finalseg` model: a 4-state (B, M, E, S: begin, middle, end, single) hidden Markov
/// model over Chinese characters, decoded with Viterbi to cut runs of characters that the
/// dictionary does not cover (new words, names). The probabilities are jieba's own, read from
/// its `prob_start.py`, `prob_trans.py` and `prob_emit.py` (Python dict literals of log
/// probabilities).
public struct JiebaHMM: Sendable {
    /// State order B, M, E, S (indices 0...3).
    static let stateNames: [Character] = ["B", "M", "E", "S"]
    /// jieba's stand-in for log(0).
    static let minFloat = -3.14e100
    /// For each state, the states that may precede it (jieba's `PrevStatus`, in its order).
    static let previous: [[Int]] = [[2, 3], [1, 0], [0, 1], [3, 2]] // B: ES, M: MB, E: BM, S: SE

    let start: [Double]
    let transition: [[Double]] // [from][to]
    let emission: [[UInt32: Double]]

    /// Loads `prob_start.py`, `prob_trans.py` and `prob_emit.py` from `directory`.
    public init(directory: String) throws {
        func load(_ name: String) throws -> [String: PythonLiteral] {
            let path = (directory as NSString).appendingPathComponent(name)
            var parser = PythonLiteral.Parser(bytes: try AssetFile.read(path), path: path)
            guard case let .dict(entries) = try parser.parseAssignment(named: "P") else {
                throw TextError.malformedFile(path: path, line: nil, reason: "P is not a dict")
            }
            return Dictionary(entries, uniquingKeysWith: { _, last in last })
        }
        func number(_ value: PythonLiteral?, _ what: String) throws -> Double {
            guard case let .number(x)? = value else {
                throw TextError.malformedFile(path: directory, line: nil, reason: "\(what) is not a number")
            }
            return x
        }
        func table(_ value: PythonLiteral?, _ what: String) throws -> [String: PythonLiteral] {
            guard case let .dict(entries)? = value else {
                throw TextError.malformedFile(path: directory, line: nil, reason: "\(what) is not a dict")
            }
            return Dictionary(entries, uniquingKeysWith: { _, last in last })
        }
        let startTable = try load("prob_start.py"), transTable = try load("prob_trans.py"), emitTable = try load("prob_emit.py")
        let names = Self.stateNames.map(String.init)
        start = try names.map { try number(startTable[$0], "start probability of \($0)") }
        transition = try names.map { from in
            let row = try table(transTable[from], "transitions from \(from)")
            return try names.map { to in row[to] == nil ? Self.minFloat : try number(row[to], "transition \(from)→\(to)") }
        }
        emission = try names.map { state in
            var row: [UInt32: Double] = [:]
            for (key, value) in try table(emitTable[state], "emissions of \(state)") {
                guard key.unicodeScalars.count == 1 else {
                    throw TextError.malformedFile(path: directory, line: nil, reason: "emission key \(key.debugDescription) is not one character")
                }
                row[key.unicodeScalars.first!.value] = try number(value, "emission \(state)/\(key)")
            }
            return row
        }
    }

    /// The words of a run of Chinese characters, by the most probable state sequence.
    func cut(_ chars: ArraySlice<UInt32>) -> [ArraySlice<UInt32>] {
        let n = chars.count
        guard n > 0 else { return [] }
        let base = chars.startIndex
        var v = (0..<4).map { start[$0] + (emission[$0][chars[base]] ?? Self.minFloat) }
        var back = [[Int]](repeating: [0, 0, 0, 0], count: n)
        for t in 1..<max(n, 1) {
            var next = [Double](repeating: 0, count: 4)
            for y in 0..<4 {
                let em = emission[y][chars[base + t]] ?? Self.minFloat
                var best = -Double.infinity, bestState = -1
                for y0 in Self.previous[y] {
                    let p = v[y0] + transition[y0][y] + em
                    // Python's max over (prob, state) tuples: ties go to the larger state letter.
                    if bestState < 0 || p > best || (p == best && Self.stateNames[y0] > Self.stateNames[bestState]) {
                        best = p
                        bestState = y0
                    }
                }
                next[y] = best
                back[t][y] = bestState
            }
            v = next
        }
        // The last state is E or S, the more probable (ties: S).
        var state = v[3] >= v[2] ? 3 : 2
        var states = [Int](repeating: 0, count: n)
        for t in stride(from: n - 1, through: 0, by: -1) {
            states[t] = state
            if t > 0 { state = back[t][state] }
        }
        var words: [ArraySlice<UInt32>] = []
        var begin = 0, next = 0
        for i in 0..<n {
            switch states[i] {
            case 0: begin = i
            case 2: words.append(chars[(base + begin)...(base + i)]); next = i + 1
            case 3: words.append(chars[(base + i)...(base + i)]); next = i + 1
            default: break
            }
        }
        if next < n { words.append(chars[(base + next)...]) }
        return words
    }
}

/// The subset of Python literals jieba's model files use: dicts with string keys, strings
/// (with `\u`, `\U`, `\x` and one-character escapes) and floats.
enum PythonLiteral: Sendable {
    case number(Double)
    case string(String)
    case dict([(String, PythonLiteral)])

    struct Parser {
        let bytes: [UInt8]
        let path: String
        var i = 0

        init(bytes: [UInt8], path: String) {
            self.bytes = bytes
            self.path = path
        }

        /// The value assigned by the first line `name=…` or `name = …`.
        mutating func parseAssignment(named name: String) throws -> PythonLiteral {
            let target = Array(name.utf8)
            while i < bytes.count {
                let lineStart = i == 0 || bytes[i - 1] == 0x0A
                if lineStart, bytes[i...].starts(with: target) {
                    i += target.count
                    skipSpace()
                    if i < bytes.count, bytes[i] == UInt8(ascii: "=") {
                        i += 1
                        return try parseValue()
                    }
                }
                i += 1
            }
            throw error("no assignment to \(name)")
        }

        mutating func parseValue() throws -> PythonLiteral {
            skipSpace()
            guard i < bytes.count else { throw error("unexpected end of file") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var entries: [(String, PythonLiteral)] = []
                while true {
                    skipSpace()
                    guard i < bytes.count else { throw error("unterminated dict") }
                    if bytes[i] == UInt8(ascii: "}") { i += 1; return .dict(entries) }
                    guard case let .string(key) = try parseValue() else { throw error("dict key is not a string") }
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
                    i += 1
                    entries.append((key, try parseValue()))
                    skipSpace()
                    if i < bytes.count, bytes[i] == UInt8(ascii: ",") { i += 1 }
                }
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                return .string(try parseString())
            default:
                let start = i
                while i < bytes.count, "0123456789+-.eE".utf8.contains(bytes[i]) { i += 1 }
                guard let value = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else {
                    throw error("expected a number")
                }
                return .number(value)
            }
        }

        private mutating func parseString() throws -> String {
            let quote = bytes[i]
            i += 1
            var out = String.UnicodeScalarView()
            var raw: [UInt8] = []
            func flushRaw() { out.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars); raw.removeAll() }
            while i < bytes.count, bytes[i] != quote {
                if bytes[i] != UInt8(ascii: "\\") { raw.append(bytes[i]); i += 1; continue }
                flushRaw()
                i += 1
                guard i < bytes.count else { break }
                let kind = bytes[i]
                i += 1
                let hexDigits: Int
                switch kind {
                case UInt8(ascii: "u"): hexDigits = 4
                case UInt8(ascii: "U"): hexDigits = 8
                case UInt8(ascii: "x"): hexDigits = 2
                case UInt8(ascii: "n"): out.append("\n"); continue
                case UInt8(ascii: "t"): out.append("\t"); continue
                case UInt8(ascii: "r"): out.append("\r"); continue
                default: out.append(Unicode.Scalar(kind)); continue
                }
                guard i + hexDigits <= bytes.count,
                      let value = UInt32(String(decoding: bytes[i..<(i + hexDigits)], as: UTF8.self), radix: 16),
                      let scalar = Unicode.Scalar(value) else { throw error("bad escape") }
                out.append(scalar)
                i += hexDigits
            }
            guard i < bytes.count else { throw error("unterminated string") }
            flushRaw()
            i += 1
            return String(out)
        }

        private mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        }

        private func error(_ reason: String) -> TextError {
            let line = bytes[..<min(i, bytes.count)].reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
            return .malformedFile(path: path, line: line, reason: reason)
        }
    }
}
