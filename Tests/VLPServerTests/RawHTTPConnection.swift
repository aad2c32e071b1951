import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest

/// A bare TCP connection to a loopback port, for requests a URL session will not send: malformed
/// escapes, requests that are not HTTP, heads and bodies left half-sent.
final class RawHTTPConnection {
    private let socket: Int32

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(socket)
            throw POSIXError(.init(rawValue: code) ?? .ECONNREFUSED)
        }
    }

    deinit { Glibc.close(socket) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw POSIXError(.init(rawValue: errno) ?? .EPIPE) }
            offset += sent
        }
    }

    /// What came back: the bytes read, whether the server closed (or reset) the connection, and
    /// after how many seconds.
    struct Received {
        var data: Data
        var isClosed: Bool
        var seconds: TimeInterval
        var reply: RawHTTPReply? { RawHTTPReply(data) }
    }

    /// Reads until the server closes the connection or `timeout` seconds pass; with
    /// `untilReply`, stops as soon as one whole answer (head and `Content-Length` body) is in.
    func receive(timeout: TimeInterval, untilReply: Bool = false) -> Received {
        let start = Date()
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if untilReply, let reply = RawHTTPReply(data), reply.isComplete { break }
            let left = timeout - Date().timeIntervalSince(start)
            guard left > 0 else { break }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(max(1, left * 1000))) > 0 else { continue }
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { return Received(data: data, isClosed: true, seconds: Date().timeIntervalSince(start)) }
            data.append(contentsOf: buffer[0..<count])
        }
        return Received(data: data, isClosed: false, seconds: Date().timeIntervalSince(start))
    }
}

/// An HTTP/1.1 answer parsed from raw bytes.
struct RawHTTPReply {
    var status: Int
    /// Header names in lower case.
    var headers: [String: String]
    var body: Data
    var isComplete: Bool

    init?(_ data: Data) {
        guard let end = data.range(of: Data("\r\n\r\n".utf8)) else { return nil }
        let lines = String(decoding: data[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusWords = lines[0].split(separator: " ")
        guard statusWords.count >= 2, let status = Int(statusWords[1]) else { return nil }
        self.status = status
        headers = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        body = Data(data[end.upperBound...])
        let length = headers["content-length"].flatMap { Int($0) } ?? 0
        isComplete = body.count >= length
        if body.count > length { body = body.prefix(length) }
    }

    var errorMessage: String? {
        guard let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
        return (json["error"] as? [String: Any])?["message"] as? String
    }
}
