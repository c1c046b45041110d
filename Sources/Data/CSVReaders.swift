import Kernels

/// Comma-separated text: images as rows of pixels then a label (the MNIST 5,000-digit set), and
/// 2-D points as rows of x,y. Files may be gzip-compressed.
enum CSV {
    /// The lines of a text file, without empty ones, each with its 1-based line number.
    static func lines(_ path: String) throws -> [(number: Int, text: Substring)] {
        let bytes = try fileBytes(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DataError("\(path): not text (is it a CSV file?)")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { index, line in
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
            return trimmed.allSatisfy(\.isWhitespace) ? nil : (index + 1, trimmed)
        }
    }

    /// Square grey images from rows of `side²` pixels (0…255) and a label (0…255), read byte by
    /// byte (the 5,000-digit set is 4 million numbers).
    static func images(_ path: String) throws -> ImageSet {
        let bytes = try fileBytes(path)
        var values: [UInt8] = []
        values.reserveCapacity(bytes.count / 2)
        var columns = 0, rows = 0, line = 1, column = 0, number = 0, digits = 0
        func fail(_ what: String) -> DataError { DataError("\(path):\(line): \(what)") }
        func endValue() throws {
            guard digits > 0, number <= 255 else {
                throw fail("value \(column + 1) is not a whole number 0–255; pixels and labels are whole numbers 0–255")
            }
            values.append(UInt8(number))
            column += 1
            (number, digits) = (0, 0)
        }
        func endRow() throws {
            try endValue()
            if rows == 0 {
                columns = column
                let side = Int(Double(columns - 1).squareRoot().rounded())
                guard columns >= 2, side * side == columns - 1 else {
                    throw fail("\(columns) values; an image row is side² pixels and a label (785 for 28×28)")
                }
            } else if column != columns {
                throw fail("\(column) values, the first row has \(columns)")
            }
            rows += 1
            column = 0
        }
        var lineHasValues = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                number = number * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                if digits > 3 { throw fail("value \(column + 1) has more than 3 digits; pixels and labels are 0–255") }
                lineHasValues = true
            case UInt8(ascii: ","):
                try endValue()
                lineHasValues = true
            case UInt8(ascii: "\n"):
                if lineHasValues { try endRow() }
                lineHasValues = false
                line += 1
            case UInt8(ascii: " "), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                continue
            default:
                throw fail("unexpected character \"\(Character(Unicode.Scalar(byte)))\" in value \(column + 1); pixels and labels are whole numbers 0–255")
            }
        }
        if lineHasValues { try endRow() }
        guard rows > 0 else { throw DataError("\(path): no rows") }
        let side = Int(Double(columns - 1).squareRoot().rounded())
        var pixels = [UInt8](repeating: 0, count: rows * (columns - 1))
        var labels = [Int](repeating: 0, count: rows)
        for row in 0..<rows {
            for i in 0..<(columns - 1) { pixels[row * (columns - 1) + i] = values[row * columns + i] }
            labels[row] = Int(values[row * columns + columns - 1])
        }
        return pixels.withUnsafeBufferPointer {
            ImageSet.fromBytes($0, count: rows, channels: 1, height: side, width: side, labels: labels, source: path)
        }
    }

    /// 2-D points, one `x,y` a row; a first row that is not two numbers is a header.
    static func points(_ path: String) throws -> Tensor {
        var rows = try lines(path)
        func pair(_ text: Substring) -> (Float, Float)? {
            let values = text.split(separator: ",", omittingEmptySubsequences: false)
            guard values.count == 2, let x = Float(values[0].trimmingSpaces), let y = Float(values[1].trimmingSpaces),
                  x.isFinite, y.isFinite else { return nil }
            return (x, y)
        }
        if let first = rows.first, pair(first.text) == nil { rows.removeFirst() }  // a header
        guard !rows.isEmpty else { throw DataError("\(path): no points (one x,y a row)") }
        var scalars: [Float] = []
        scalars.reserveCapacity(2 * rows.count)
        for line in rows {
            guard let (x, y) = pair(line.text) else {
                throw DataError("\(path):\(line.number): \"\(line.text.prefix(40))\" is not a point; write one x,y a row, two finite numbers")
            }
            scalars += [x, y]
        }
        return Tensor(shape: [rows.count, 2], scalars: scalars)
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return text
    }
}
