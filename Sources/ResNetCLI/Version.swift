/// The release version both tools print with --version and scripts/package
/// puts in the tarball's name. Bump it here only.
public enum ResNetToolsVersion {
    public static let string = "0.10.0"
}
