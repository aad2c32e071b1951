/// The `X-Robots-Tag` directives that opt an image out of datasets. A header value is a comma
/// list of directives, each optionally for one crawler (`otherbot: noindex`); a directive for
/// another crawler does not apply to us. `noai` and `noimageai` always opt out; `noindex` and
/// `none` do when asked (`--respect-noindex`).
public struct OptOutDirectives: Sendable, Equatable {
    public var respectsNoindex: Bool
    /// The product token of our user agent (`swift-vlp`), lowercased: directives addressed to it apply.
    public var userAgentToken: String

    public init(respectsNoindex: Bool = false, userAgentToken: String) {
        self.respectsNoindex = respectsNoindex
        self.userAgentToken = userAgentToken.lowercased()
    }

    /// The product token of a user-agent string: its text up to the first `/` or space.
    public static func token(ofUserAgent agent: String) -> String {
        String(agent.prefix { $0 != "/" && $0 != " " }).lowercased()
    }

    /// The directive that opts out, among all `X-Robots-Tag` header values; nil when none does.
    public func optOut(in values: [String]) -> String? {
        let blocking: Set<String> = respectsNoindex ? ["noai", "noimageai", "noindex", "none"] : ["noai", "noimageai"]
        for value in values {
            var addressee: String?
            for part in value.split(separator: ",") {
                var directive = part.trimmingCharacters(in: .whitespaces).lowercased()
                // `bot: noindex` starts a run of directives for `bot`; `unavailable_after: DATE`
                // is a directive with a value, not an addressee.
                if let colon = directive.firstIndex(of: ":") {
                    let head = String(directive[..<colon])
                    let tail = directive[directive.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    if head != "unavailable_after" && head != "max-snippet" && head != "max-image-preview" && head != "max-video-preview" {
                        addressee = head
                        directive = tail
                    }
                }
                let applies = addressee == nil || addressee == "*" || addressee == userAgentToken
                if applies && blocking.contains(directive) { return directive }
            }
        }
        return nil
    }
}
