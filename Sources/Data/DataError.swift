/// A data file or data set the lab cannot use: one line naming the file (and row or byte) and
/// what to do about it.
public struct DataError: Error, CustomStringConvertible, Equatable {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
