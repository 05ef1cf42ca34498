/// Why a parity check could not be done (the sides could not be read as asked), naming what is at fault.
/// A mismatch is not an error: it is a report whose `parity` is false.
public struct ParityCheckError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
