import ArgumentParser

/// Kafka partitions as typed on any program's command line: numbers and inclusive ranges, comma-separated
/// (`0,3,5-7`). Kept sorted and distinct.
public struct PartitionSelection: ExpressibleByArgument, Sendable, Hashable, CustomStringConvertible {
    public let partitions: [Int32]

    /// Partition numbers above this are refused: no Kafka cluster has that many partitions in a topic, and a
    /// range typed by mistake (`0-2000000000`) would otherwise become a list of that many numbers.
    public static let largestPartition: Int32 = 999_999

    public init(partitions: [Int32]) {
        self.partitions = Array(Set(partitions)).sorted()
    }

    public init?(argument: String) {
        try? self.init(parsing: argument, option: "--partitions")
    }

    /// Parses `text`, throwing an error that names `option` and the text.
    public init(parsing text: String, option: String) throws {
        // Ranges are merged before they are expanded: `0-999999` typed a thousand times costs one expansion,
        // not a thousand (fuzz-cli-values timed out on repeated wide ranges).
        var ranges: [ClosedRange<Int32>] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = item.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
                .map { Int32($0.trimmingCharacters(in: .whitespaces)) }
            if bounds.count == 1, let value = bounds[0], value >= 0, value <= Self.largestPartition {
                ranges.append(value...value)
            } else if bounds.count == 2, let low = bounds[0], let high = bounds[1], low >= 0, low <= high,
                      high <= Self.largestPartition {
                ranges.append(low...high)
            } else {
                throw UsageError("\(option) \(text): expected partition numbers and ranges, like 0,3,5-7")
            }
        }
        var merged: [ClosedRange<Int32>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        partitions = merged.flatMap { Array($0) }   // sorted and distinct by construction
    }

    public func contains(_ partition: Int32) -> Bool {
        partitions.contains(partition)
    }

    /// Consecutive partitions written as ranges: `0,3,5-7`.
    public var description: String {
        var parts: [String] = []
        var index = 0
        while index < partitions.count {
            var end = index
            while end + 1 < partitions.count && partitions[end + 1] == partitions[end] + 1 { end += 1 }
            parts.append(end == index ? "\(partitions[index])" : "\(partitions[index])-\(partitions[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }
}

import Foundation
