/// Errors of the Parquet writer and reader. Reader errors name the file and, where it applies, the row
/// group, column and byte offset at fault.
public enum ParquetError: Error, CustomStringConvertible, Sendable {
    /// The caller passed values that do not fit the schema.
    case invalidInput(String)
    /// The file is not a Parquet file, is truncated, or its footer or pages cannot be decoded.
    case corrupt(file: String, String)
    /// The file uses something this reader does not implement (nested columns, an unknown encoding or codec).
    case unsupported(file: String, String)
    /// An I/O failure reading or writing a file.
    case io(file: String, String)

    public var description: String {
        switch self {
        case .invalidInput(let m): return "invalid Parquet input: \(m)"
        case .corrupt(let file, let m): return "corrupt Parquet file \(file): \(m)"
        case .unsupported(let file, let m): return "unsupported Parquet feature in \(file): \(m)"
        case .io(let file, let m): return "I/O error on \(file): \(m)"
        }
    }
}
