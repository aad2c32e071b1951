import Foundation
import Torch

/// One regular file in a tar archive.
public struct TarMember: Equatable, Sendable {
    public var name: String
    public var data: Data
    /// Byte offset of the member's (first) header in the archive.
    public var offset: Int
}

/// Reads a tar archive member by member through a `FileHandle`, never extracting to disk nor
/// holding more than one member in memory. Understands POSIX ustar (name + prefix), GNU long
/// names (`L` entries) and pax `path=` records; entries other than regular files are passed over.
/// Damage (a short header, a bad checksum, a member cut short) ends the stream: `next()` returns
/// nil and `damage` says where and what.
public final class TarReader {
    public let path: String
    public private(set) var damage: SkippedRecord?
    /// The name of the member whose data was cut short, when that is how the archive ends.
    public private(set) var damagedMemberName: String?
    private let handle: FileHandle
    /// The archive's length in bytes: no entry may claim more than is left.
    private let archiveSize: Int
    private var buffer = Data()
    private var cursor = 0            // next unread byte of buffer
    private var position = 0          // archive offset of the next unread byte
    private var isAtEnd = false
    private var isFinished = false
    private var pendingDamage: SkippedRecord?
    private let chunkSize = 1 << 20

    public init(path: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else {
            throw DatasetError.fileNotFound(path)
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DatasetError.unreadable(path, reason: "cannot open")
        }
        do {
            archiveSize = Int(try handle.seekToEnd())
            try handle.seek(toOffset: 0)
        } catch {
            throw DatasetError.unreadable(path, reason: "cannot find its length: \(error)")
        }
        self.path = path
        self.handle = handle
    }

    deinit { try? handle.close() }

    /// Up to `count` bytes from the current position (fewer only at end of file).
    private func read(_ count: Int) throws -> Data {
        if buffer.count - cursor < count && !isAtEnd {
            if cursor > 0 {
                buffer = buffer.subdata(in: cursor..<buffer.count)
                cursor = 0
            }
            while buffer.count < count && !isAtEnd {
                let chunk: Data?
                do { chunk = try handle.read(upToCount: max(chunkSize, count - buffer.count)) } catch {
                    throw DatasetError.unreadable(path, reason: "\(error)")
                }
                if let chunk, !chunk.isEmpty { buffer.append(chunk) } else { isAtEnd = true }
            }
        }
        let end = min(buffer.count, cursor + count)
        let taken = buffer.subdata(in: cursor..<end)
        cursor = end
        position += taken.count
        return taken
    }

    private func fail(at offset: Int, _ reason: String, member: String? = nil) -> TarMember? {
        damage = SkippedRecord(file: path, line: offset, reason: reason)
        damagedMemberName = member
        isFinished = true
        return nil
    }

    /// The next regular file, or nil at the end of the archive or at damage.
    public func next() throws -> TarMember? {
        var longName: String?
        var paxPath: String?
        if let pendingDamage {
            self.pendingDamage = nil
            damage = pendingDamage
            isFinished = true
            return nil
        }
        while !isFinished {
            let offset = position
            let header = try read(512)
            if header.isEmpty { isFinished = true; return nil }   // end without the zero blocks
            guard header.count == 512 else {
                return fail(at: offset, "truncated tar: header cut short after \(header.count) of 512 bytes")
            }
            let h = [UInt8](header)
            if h.allSatisfy({ $0 == 0 }) { isFinished = true; return nil }
            guard TarHeader.checksumMatches(h) else {
                return fail(at: offset, "damaged tar: header checksum mismatch")
            }
            guard let size = TarHeader.number(h[124..<136]) else {
                return fail(at: offset, "damaged tar: unreadable size field")
            }
            let type = h[156]
            var name = TarHeader.string(h[0..<100])
            if h[257..<262].elementsEqual("ustar".utf8) {
                let prefix = TarHeader.string(h[345..<500])
                if !prefix.isEmpty && h[262] == 0 { name = prefix + "/" + name }   // POSIX, not old GNU
            }
            let isMemberData = type == UInt8(ascii: "0") || type == 0 || type == UInt8(ascii: "7")
            let isMetadata = type == UInt8(ascii: "L") || type == UInt8(ascii: "x")
            let memberName = longName ?? paxPath ?? name
            // An entry claiming more bytes than are left is cut short (or crafted: a size near
            // Int.max would also overflow the padding sum below), found before reading any.
            guard size <= archiveSize - position else {
                return fail(at: offset, "truncated tar: entry \(memberName) claims \(size) bytes, \(archiveSize - position) are left in the archive",
                            member: isMemberData ? memberName : nil)
            }
            let padded = (size + 511) / 512 * 512
            if isMemberData || isMetadata {
                let data = try read(size)
                guard data.count == size else {
                    return fail(at: offset, "truncated tar: member \(memberName) cut short after \(data.count) of \(size) bytes",
                                member: isMemberData ? memberName : nil)
                }
                let padding = try read(padded - size)
                if padding.count < padded - size {
                    // The member is whole but the archive ends inside its padding: hand the
                    // member out (if it is one) and report the damage on the next call.
                    pendingDamage = SkippedRecord(file: path, line: offset + 512 + size,
                                                  reason: "truncated tar: archive ends inside the padding after \(memberName)")
                }
                if type == UInt8(ascii: "L") {
                    longName = TarHeader.string(data[...])
                    continue
                }
                if type == UInt8(ascii: "x") {
                    if let path = TarHeader.paxPath(data) { paxPath = path }
                    continue
                }
                return TarMember(name: memberName, data: data, offset: offset)
            }
            // Directories, links, devices, global pax headers: skip their data.
            let skippedBytes = try read(padded)
            guard skippedBytes.count == padded else {
                return fail(at: offset, "truncated tar: entry \(name) cut short")
            }
            longName = nil
            paxPath = nil
        }
        return nil
    }
}

/// Writes a tar archive that GNU and BSD tar read: ustar headers, a GNU `L` entry before any
/// member whose name fits neither the name field nor name + prefix, two zero blocks at the end,
/// padded to whole 10 KiB records.
public final class TarWriter {
    private let file: AtomicFile
    private let modificationTime: Int
    public var path: String { file.path }

    /// - Parameter modificationTime: seconds since 1970 stamped on every member (fixed, so
    ///   the same members make the same bytes).
    public init(path: String, modificationTime: Int = 0) throws {
        file = try AtomicFile(path: path)
        self.modificationTime = modificationTime
    }

    public func add(name: String, data: Data) throws {
        let nameBytes = Array(name.utf8)
        guard !nameBytes.isEmpty else { throw DatasetError.invalidArgument("tar member with an empty name") }
        var fieldName = nameBytes
        var prefix: [UInt8] = []
        if nameBytes.count > 100 {
            if let split = TarHeader.ustarSplit(nameBytes) {
                (prefix, fieldName) = split
            } else {
                let long = nameBytes + [0]
                try file.write(TarHeader.make(name: Array("././@LongLink".utf8), prefix: [], size: long.count,
                                              type: UInt8(ascii: "L"), mtime: 0))
                try file.write(TarHeader.padded(Data(long)))
                fieldName = Array(nameBytes.prefix(100))
            }
        }
        try file.write(TarHeader.make(name: fieldName, prefix: prefix, size: data.count,
                                      type: UInt8(ascii: "0"), mtime: modificationTime))
        try file.write(TarHeader.padded(data))
    }

    /// Ends the archive and moves it into place.
    public func finish() throws {
        let used = file.bytesWritten + 1024
        let record = 10240
        let total = (used + record - 1) / record * record
        try file.write(Data(count: total - file.bytesWritten))
        try file.commit()
    }
}

enum TarHeader {
    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
    }

    static func string(_ bytes: Data.SubSequence) -> String {
        string(ArraySlice([UInt8](bytes)))
    }

    /// An octal field (NUL/space padded) or a GNU base-256 field (high bit set).
    static func number(_ field: ArraySlice<UInt8>) -> Int? {
        guard let first = field.first else { return nil }
        if first & 0x80 != 0 {
            var value = Int(first & 0x7F)
            for byte in field.dropFirst() {
                guard value < Int.max >> 8 else { return nil }
                value = value << 8 | Int(byte)
            }
            return value
        }
        var value = 0
        var seenDigit = false
        for byte in field {
            if byte == 0 || byte == 0x20 { if seenDigit { break } else { continue } }
            guard (0x30...0x37).contains(byte) else { return nil }
            value = value * 8 + Int(byte - 0x30)
            seenDigit = true
        }
        return value
    }

    static func checksumMatches(_ h: [UInt8]) -> Bool {
        guard let stored = number(h[148..<156]) else { return false }
        var unsigned = 0
        var signed = 0
        for (i, byte) in h.enumerated() {
            let b = (148..<156).contains(i) ? UInt8(0x20) : byte
            unsigned += Int(b)
            signed += Int(Int8(bitPattern: b))
        }
        return stored == unsigned || stored == signed
    }

    /// The `path` record of a pax extended header (`"LEN path=VALUE\n"` records).
    static func paxPath(_ data: Data) -> String? {
        let bytes = [UInt8](data)
        var i = 0
        var found: String?
        while i < bytes.count {
            guard let space = bytes[i...].firstIndex(of: 0x20),
                  let length = Int(String(decoding: bytes[i..<space], as: UTF8.self)),
                  length > space - i, length <= bytes.count - i
            else { break }
            let record = String(decoding: bytes[(space + 1)..<(i + length)], as: UTF8.self)
            if record.hasPrefix("path="), record.hasSuffix("\n") {
                found = String(record.dropFirst(5).dropLast())
            }
            i += length
        }
        return found
    }

    /// Splits a long name at a `/` into a ustar prefix (≤155 bytes) and name (≤100 bytes).
    static func ustarSplit(_ name: [UInt8]) -> (prefix: [UInt8], name: [UInt8])? {
        for i in stride(from: min(name.count - 1, 155), through: 1, by: -1) where name[i] == UInt8(ascii: "/") {
            let rest = Array(name[(i + 1)...])
            if rest.count <= 100 && !rest.isEmpty { return (Array(name[..<i]), rest) }
            return nil
        }
        return nil
    }

    static func octal(_ value: Int, width: Int) -> [UInt8] {
        var digits = Array(String(value, radix: 8).utf8)
        while digits.count < width - 1 { digits.insert(UInt8(ascii: "0"), at: 0) }
        return digits + [0]
    }

    static func make(name: [UInt8], prefix: [UInt8], size: Int, type: UInt8, mtime: Int) -> Data {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], at offset: Int) { for (i, b) in bytes.enumerated() { h[offset + i] = b } }
        put(name, at: 0)
        put(octal(0o644, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        if size < 0o77777777777 {
            put(octal(size, width: 12), at: 124)
        } else {                                   // GNU base-256 for members of 8 GiB and more
            var value = size
            for i in stride(from: 135, through: 125, by: -1) { h[i] = UInt8(value & 0xFF); value >>= 8 }
            h[124] = 0x80
        }
        put(octal(mtime, width: 12), at: 136)
        h[156] = type
        put(Array("ustar".utf8) + [0], at: 257)
        put(Array("00".utf8), at: 263)
        put(prefix, at: 345)
        put([UInt8](repeating: 0x20, count: 8), at: 148)
        let sum = h.reduce(0) { $0 + Int($1) }
        put(octal(sum, width: 7) + [0x20], at: 148)
        return Data(h)
    }

    static func padded(_ data: Data) -> Data {
        let remainder = data.count % 512
        return remainder == 0 ? data : data + Data(count: 512 - remainder)
    }
}
