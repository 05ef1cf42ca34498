/// The toolkit's version, printed by every program's `--version` and carried in its JSON reports.
public enum ToolkitVersion {
    public static let current = "0.6.0"
}
