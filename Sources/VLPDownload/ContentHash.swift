import Crypto
import Foundation

/// The SHA-256 of a body as 64 lowercase hex digits: exact duplicates share it.
enum ContentHash {
    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
    }
}
