/// The version of swift-vlp, shown by `vlp --version`.
public enum VLPVersion {
    public static let string = "0.1.0"
}
