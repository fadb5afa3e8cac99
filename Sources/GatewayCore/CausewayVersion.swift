/// The gateway's name and version, as XEP-0092 and `causeway --version` report them.
public enum CausewayVersion {
    public static let name = "Causeway"
    public static let version = "0.1.0"
}
